using System.Text.RegularExpressions;
using NUnit.Framework;
using PyAlloc.Tests.Support;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>pa_last_error, pa_clear_error, pa_version and the allocator mode on the real libpyalloc.so.</summary>
[TestFixture]
public sealed unsafe class ErrorsAndModeTests
{
    [Test]
    public void LastError_IsNotClearedBySuccessfulCalls_ButByClearError()
    {
        pa_clear_error();
        Assert.That(PyMemory.LastError, Is.Empty);
        pa_free((void*)0x20);
        string error = PyMemory.LastError;
        Assert.That(error, Is.Not.Empty);

        void* p = pa_malloc(10);
        pa_free(p);
        Assert.That(PyMemory.LastError, Is.EqualTo(error), "a successful call cleared the error");

        pa_clear_error();
        Assert.That(PyMemory.LastError, Is.Empty);
        Assert.That(*pa_last_error(), Is.Zero, "pa_last_error() is \"\", never NULL");
    }

    [Test]
    public void Version_IsMajorMinorPatch()
    {
        Assert.That(PyMemory.Version, Does.Match(@"^\d+\.\d+\.\d+$"));
        Assert.That(PyMemory.Version, Is.EqualTo($"{PA_VERSION_MAJOR}.{PA_VERSION_MINOR}.{PA_VERSION_PATCH}"));
    }

    [Test]
    public void Mode_IsPymalloc_AsChosenBeforeTheFirstAllocation()
    {
        Assert.That(PyMemory.Mode, Is.EqualTo(AllocatorMode.Pymalloc));
        Assert.That(System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)pa_get_allocator_mode()), Is.EqualTo("pymalloc"));
    }

    [Test]
    public void SetMode_ToTheModeInForce_Succeeds()
    {
        pa_free(pa_malloc(1)); // blocks exist
        Assert.That(PyMemory.TrySetMode(AllocatorMode.Pymalloc), Is.True, PyMemory.LastError);
    }

    [Test]
    public void SetMode_ToAnotherModeAfterAllocating_FailsWithError()
    {
        pa_free(pa_malloc(1));
        pa_clear_error();
        Assert.That(PyMemory.TrySetMode(AllocatorMode.Malloc), Is.False);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_set_allocator_mode:"));
        Assert.That(PyMemory.Mode, Is.EqualTo(AllocatorMode.Pymalloc), "the mode changed");
    }

    [Test]
    public void SetMode_WithNullOrUnknownName_FailsWithError()
    {
        pa_clear_error();
        Assert.That(pa_set_allocator_mode(null), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.StartWith("pa_set_allocator_mode:"));

        pa_clear_error();
        fixed (byte* name = "tcmalloc\0"u8)
            Assert.That(pa_set_allocator_mode(name), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.StartWith("pa_set_allocator_mode:").And.Contain("tcmalloc"));
    }

    [Test]
    public void Errors_NameTheFailingCallFirst()
    {
        pa_clear_error();
        pa_calloc(nuint.MaxValue, 3);
        Assert.That(PyMemory.LastError, Does.Match("^" + Regex.Escape("pa_calloc: ")));
    }
}
