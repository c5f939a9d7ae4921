using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// Issue 13 from .NET: pointers that are not what a call wants (another runtime's object, a made-up
/// object, a freed object, a freed runtime, a second free, a dead type) are refused with an error,
/// never a crash; pa__dealloc of a live object and pa__refcnt_error(NULL) are refused; a finaliser
/// that drops the last reference itself runs once; pa_weakref_new refuses a dying object.
/// </summary>
[TestFixture]
public sealed unsafe partial class HostileInputTests : RuntimeFixture
{
    [LibraryImport("libc", EntryPoint = "fopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial void* Fopen(string path, string mode);

    [LibraryImport("libc", EntryPoint = "fclose")]
    private static partial int Fclose(void* stream);

    [Test]
    public void PrintingStatsToAFullDevice_Fails_WithTheOsError()
    {
        void* full = Fopen("/dev/full", "w");
        Assert.That((long)full, Is.Not.Zero);
        try
        {
            Assert.That(NativeMethods.pa_print_malloc_stats(full), Is.EqualTo(-1));
            Assert.That(PyMemory.LastError, Is.EqualTo("pa_print_malloc_stats: the write failed: No space left on device (errno 28)"));
        }
        finally
        {
            Fclose(full);
        }
    }

    private static void AssertRefused(string contains)
    {
        Assert.That(PyMemory.LastError, Does.Contain(contains));
        PyMemory.ClearError();
    }

    [Test]
    public void AnotherRuntimesObject_IsRefused_AndFreeingBothRuntimesAfterwardsIsSafe()
    {
        using var other = new PyRuntime();
        PaObject* mine = NativeMethods.pa_list_new(Rt.Handle);
        PaObject* theirs = NativeMethods.pa_list_new(other.Handle);
        Assert.That(NativeMethods.pa_list_append(mine, theirs), Is.EqualTo(-1));
        AssertRefused("another runtime");
        Assert.That(NativeMethods.pa_list_append(mine, mine), Is.Zero);
        Assert.That(NativeMethods.pa_list_set(mine, 0, theirs), Is.EqualTo(-1));
        AssertRefused("another runtime");
        NativeMethods.pa_decref(theirs);
        other.Dispose();
        NativeMethods.pa_decref(mine);
        Assert.That(Rt.Collect(), Is.EqualTo(1L));
    }

    [Test]
    public void MadeUpFreedAndForeignObjects_AreRefusedByEveryObjectCall()
    {
        PaObject* list = NativeMethods.pa_list_new(Rt.Handle);
        Assert.That(NativeMethods.pa_list_append(list, list), Is.Zero);
        nint* fake = stackalloc nint[8];
        fake[0] = 3;
        fake[1] = (nint)NativeMethods.pa_object_type(list);
        PaObject* dead = NativeMethods.pa_list_new(Rt.Handle);
        NativeMethods.pa_decref(dead);
        void* block = NativeMethods.pa_malloc(64);
        var bad = new[] { (nint)fake, (nint)dead, (nint)block, (nint)list + 16, unchecked((nint)0x5a5a5a5a5a5a5a50) };
        foreach (nint p in bad)
        {
            var o = (PaObject*)p;
            Assert.That(NativeMethods.pa_list_append(list, o), Is.EqualTo(-1));
            AssertRefused("not a live object");
            Assert.That((ulong)NativeMethods.pa_list_size(o), Is.EqualTo((ulong)NativeMethods.PA_SIZE_ERROR));
            AssertRefused("not a live object");
            NativeMethods.pa_gc_track(o);
            AssertRefused("not a live object");
            Assert.That((long)NativeMethods.pa_object_runtime(o), Is.Zero);
            AssertRefused("not a live object");
            Assert.That((long)NativeMethods.pa_object_gc_resize(o, 4), Is.Zero);
            AssertRefused("not a live object");
            Assert.That((long)NativeMethods.pa_weakref_new(o, null, null), Is.Zero);
            AssertRefused("not a live object");
            NativeMethods.pa__dealloc(o);
            AssertRefused("not a live object");
        }
        NativeMethods.pa_free(block);
        Assert.That((long)NativeMethods.pa_list_size(list), Is.EqualTo(1), "the list is untouched");
        NativeMethods.pa_decref(list);
    }

    [Test]
    public void AFreedRuntime_AndASecondFree_AreRefused_AndItsTypesDied()
    {
        PaRuntime* rt = NativeMethods.pa_runtime_new();
        PaObject* l = NativeMethods.pa_list_new(rt);
        PaType* listType = NativeMethods.pa_object_type(l);
        NativeMethods.pa_runtime_free(rt);
        Assert.That((long)NativeMethods.pa_gc_collect(rt, 2), Is.EqualTo(-1));
        AssertRefused("not a live runtime");
        Assert.That((long)NativeMethods.pa_list_new(rt), Is.Zero);
        AssertRefused("not a live runtime");
        NativeMethods.pa_runtime_free(rt);
        AssertRefused("not a live runtime");
        Assert.That((long)NativeMethods.pa_object_new(listType), Is.Zero);
        AssertRefused("not a live type");
        byte* junk = stackalloc byte[512];
        new Span<byte>(junk, 512).Fill(0x5a);
        Assert.That((long)NativeMethods.pa_gc_collect((PaRuntime*)junk, 2), Is.EqualTo(-1));
        AssertRefused("not a live runtime");
    }

    [Test]
    public void DeallocOfALiveObject_AndRefcntErrorOfNull_AreRefused()
    {
        PaObject* l = NativeMethods.pa_list_new(Rt.Handle);
        NativeMethods.pa__dealloc(l);
        AssertRefused("alive");
        Assert.That((long)NativeMethods.pa_list_size(l), Is.Zero, "still a live list");
        NativeMethods.pa__refcnt_error(null);
        AssertRefused("is NULL");
        NativeMethods.pa_decref(l);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void FinalizeDroppingSelf(PaObject* o)
    {
        Recorder.Events.Add(("finalize", (nint)o));
        NativeMethods.pa_decref(o);
    }

    [Test]
    public void AFinaliserDroppingItsOwnReference_RunsOnce_AndTheObjectDiesOnce()
    {
        PyType t = HolderType("Dropper", finalize: &FinalizeDroppingSelf, dealloc: Recorder.DeallocRecord);
        PyOwned o = t.New();
        nint address = o.Ref.Address;
        o.Dispose();
        Assert.That(Recorder.Events, Is.EqualTo(new[] { ("finalize", address), ("dealloc", address) }));
    }

    private static nint s_madeInCallback;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void WeakCallbackMakingWeakref(PaObject* wr, void* user) =>
        s_madeInCallback = (nint)NativeMethods.pa_weakref_new((PaObject*)user, null, null);

    [Test]
    public void AWeakrefToADyingObject_IsRefused()
    {
        PaObject* l = NativeMethods.pa_list_new(Rt.Handle);
        PaObject* wr = NativeMethods.pa_weakref_new(l, &WeakCallbackMakingWeakref, l);
        s_madeInCallback = 1;
        PyMemory.ClearError();
        NativeMethods.pa_decref(l);
        Assert.That((long)s_madeInCallback, Is.Zero);
        AssertRefused("dying");
        NativeMethods.pa_decref(wr);
    }
}
