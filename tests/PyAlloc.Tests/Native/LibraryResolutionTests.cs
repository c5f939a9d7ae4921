using System;
using System.IO;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native;

/// <summary>How the binding finds libpyalloc.so: PYALLOC_LIBRARY first, default probing otherwise.</summary>
[TestFixture]
public sealed class LibraryResolutionTests
{
    private string? _saved;

    [SetUp]
    public void SaveVariable() => _saved = Environment.GetEnvironmentVariable(NativeMethods.LibraryPathVariable);

    [TearDown]
    public void RestoreVariable() => Environment.SetEnvironmentVariable(NativeMethods.LibraryPathVariable, _saved);

    private static nint Resolve(string name) => NativeMethods.Resolve(name, typeof(NativeMethods).Assembly, null);

    [Test]
    public void WithPyAllocLibrarySet_TheResolverLoadsThatFile()
    {
        Environment.SetEnvironmentVariable(NativeMethods.LibraryPathVariable, TestEnvironment.NativeLibraryPath);
        Assert.That((long)Resolve(NativeMethods.LibraryName), Is.EqualTo((long)NativeLibrary.Load(TestEnvironment.NativeLibraryPath)));
    }

    [Test]
    public void WithPyAllocLibraryNamingAMissingFile_TheResolverFailsNamingIt()
    {
        string missing = "/nonexistent/libpyalloc-" + Guid.NewGuid().ToString("N") + ".so";
        Environment.SetEnvironmentVariable(NativeMethods.LibraryPathVariable, missing);
        var e = Assert.Throws<DllNotFoundException>(() => Resolve(NativeMethods.LibraryName));
        Assert.That(e!.Message, Does.Contain(missing));
    }

    [Test]
    public void WithoutPyAllocLibrary_DefaultProbingFindsTheCopyNextToTheApplication()
    {
        Environment.SetEnvironmentVariable(NativeMethods.LibraryPathVariable, null);
        Assert.That((long)Resolve(NativeMethods.LibraryName), Is.Zero, "the resolver defers to default probing");
        string copy = Path.Combine(AppContext.BaseDirectory, "libpyalloc.so");
        Assert.That((long)NativeLibrary.Load(NativeMethods.LibraryName, typeof(NativeMethods).Assembly, null),
            Is.EqualTo((long)NativeLibrary.Load(copy)));
    }

    [Test]
    public void OtherLibraries_AreLeftToDefaultProbing_EvenWithPyAllocLibrarySet()
    {
        Environment.SetEnvironmentVariable(NativeMethods.LibraryPathVariable, TestEnvironment.NativeLibraryPath);
        Assert.That((long)Resolve("libc"), Is.Zero);
    }
}
