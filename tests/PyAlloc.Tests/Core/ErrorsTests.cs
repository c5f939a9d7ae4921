using System.Text;
using System.Threading;
using NUnit.Framework;
using PyAlloc.Core.Support;

namespace PyAlloc.Tests.Core;

/// <summary>The per-thread last error behind pa_last_error.</summary>
[TestFixture]
public sealed unsafe class ErrorsTests
{
    [SetUp]
    public void Clear() => Errors.Clear();

    [Test]
    public void Set_IsSeenOnlyByTheSettingThread()
    {
        Errors.Set("main thread failure");
        string? seenByOther = null, otherOwn = null;
        var t = new Thread(() =>
        {
            seenByOther = Errors.LastErrorString;
            Errors.Set("other thread failure");
            otherOwn = Errors.LastErrorString;
        });
        t.Start();
        t.Join();
        Assert.That(seenByOther, Is.Empty);
        Assert.That(otherOwn, Is.EqualTo("other thread failure"));
        Assert.That(Errors.LastErrorString, Is.EqualTo("main thread failure"));
    }

    [Test]
    public void Clear_LeavesAnEmptyStringNeverNull()
    {
        Errors.Set("x");
        Errors.Clear();
        Assert.That(Errors.LastErrorString, Is.Empty);
        Assert.That((long)Errors.LastError, Is.Not.Zero);
        Assert.That(*Errors.LastError, Is.Zero);
    }

    [Test]
    public void LastError_PointerStaysValidAndUnchanged_UntilTheNextFailure()
    {
        Errors.Set("first");
        byte* p = Errors.LastError;
        Assert.That(System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)p), Is.EqualTo("first"));
        Errors.Set("second");
        Assert.That(Errors.LastError == p, Is.True, "the buffer is per thread and reused");
        Assert.That(Errors.LastErrorString, Is.EqualTo("second"));
    }

    [Test]
    public void LongMessage_IsCutToTheBuffer_OnACharacterBoundary()
    {
        string message = new string('é', Errors.Capacity); // 2 bytes each in UTF-8
        Errors.Set(message);
        string kept = Errors.LastErrorString;
        int bytes = Encoding.UTF8.GetByteCount(kept);
        Assert.That(bytes, Is.LessThanOrEqualTo(Errors.Capacity - 1));
        Assert.That(bytes, Is.GreaterThan(Errors.Capacity - 1 - 2), "cut more than one character short");
        Assert.That(message, Does.StartWith(kept));
    }

    [Test]
    public void FailAndNull_SetTheMessageAndReturnTheCConventions()
    {
        Assert.That(Errors.Fail("f"), Is.EqualTo(-1));
        Assert.That(Errors.LastErrorString, Is.EqualTo("f"));
        Assert.That((long)Errors.Null("n"), Is.Zero);
        Assert.That(Errors.LastErrorString, Is.EqualTo("n"));
    }

    [Test]
    public void Hex_FormatsPointersAsGlibcPrintf()
    {
        Assert.That(Errors.Hex(null), Is.EqualTo("(nil)"));
        Assert.That(Errors.Hex((void*)0x7f00dead0010), Is.EqualTo("0x7f00dead0010"));
    }
}
