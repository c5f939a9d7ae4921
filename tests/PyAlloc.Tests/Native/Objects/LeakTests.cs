using System;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// Owners that are never disposed: a PyOwned or PyRefArray left to the .NET finaliser is released on the
/// runtime's own thread later, never on the finaliser thread; a PyRuntime left to it is reported, not freed.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed unsafe class LeakTests : RuntimeFixture
{
    private readonly ConcurrentQueue<string> _warnings = new();

    [SetUp]
    public void ListenForWarnings()
    {
        _warnings.Clear();
        PyRuntime.ResourceWarning += _warnings.Enqueue;
    }

    [TearDown]
    public void StopListening() => PyRuntime.ResourceWarning -= _warnings.Enqueue;

    private static void RunFinalisers()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    /* Whether the weakref's target lives, through C calls only: an idiomatic call would release the abandoned
       references first. */
    private static bool IsAlive(PyOwned weak)
    {
        PaObject* target = NativeMethods.pa_weakref_get(weak.Pointer);
        if (target == null)
            return false;
        NativeMethods.pa_decref(target);
        return true;
    }

    /* The warnings about one runtime or object address. */
    private string[] WarningsAbout(nint address) =>
        System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Where(_warnings, w => w.Contains($"0x{(nuint)address:x} ")));

    /* In a frame of their own, so that no local of the test keeps the owner reachable. */
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint AbandonAnOwner(PyOwned owner)
    {
        nint p = (nint)owner.Pointer;
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (nint Object, PyOwned Weak) AbandonedObjectWithAWeakref(PyType type)
    {
        PyOwned o = type.New();
        PyOwned weak = PyWeakRef.New(o);
        return (AbandonAnOwner(o), weak);
    }

    [Test]
    public void AnUndisposedOwner_IsNotReleasedOnTheFinaliserThread_ButByTheRuntimeLater()
    {
        PyType t = HolderType();
        (nint p, PyOwned weak) = AbandonedObjectWithAWeakref(t);
        using (weak)
        {
            RunFinalisers();
            var o = new PyObjectRef((PaObject*)p);
            Assert.That(o.RefCount, Is.EqualTo(1), "the finaliser thread did not decref into the runtime");
            Assert.That(IsAlive(weak), Is.True);

            Assert.That(Rt.ReleaseAbandoned(), Is.EqualTo(1), "the runtime's thread releases the abandoned reference");
            Assert.That(IsAlive(weak), Is.False, "and the object died then");
            Assert.That(Rt.ReleaseAbandoned(), Is.Zero, "once");
        }
        Assert.That(WarningsAbout(p), Is.Empty, "an owner of a PyRuntime's object is released, not reported: " + string.Join("\n", _warnings));
    }

    [Test]
    public void AbandonedReferences_AreReleasedByTheNextCollect_AndByTheNextAllocation()
    {
        PyType t = HolderType();
        (nint _, PyOwned weak1) = AbandonedObjectWithAWeakref(t);
        (nint _, PyOwned weak2) = AbandonedObjectWithAWeakref(t);
        using (weak1)
        using (weak2)
        {
            RunFinalisers();
            Assert.That(IsAlive(weak1) && IsAlive(weak2), Is.True);
            Rt.Collect(0);
            Assert.That(IsAlive(weak1), Is.False, "Collect released it first");
            Assert.That(IsAlive(weak2), Is.False);
        }

        (nint _, PyOwned weak3) = AbandonedObjectWithAWeakref(t);
        using (weak3)
        {
            RunFinalisers();
            Assert.That(IsAlive(weak3), Is.True);
            using (PyOwned fresh = t.New())
                Assert.That(IsAlive(weak3), Is.False, "an allocation through the idiomatic layer released it");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private (int Count, PyOwned Weak) AbandonAReferrersArray(PyObjectRef target)
    {
        PyRefArray referrers = Rt.GetReferrers(target);
        return (referrers.Count, PyWeakRef.New(referrers[0]));
    }

    [Test]
    public void AnUndisposedRefArray_IsReleasedByTheRuntimeToo()
    {
        PyType t = HolderType();
        using PyOwned target = t.New();
        PyObjectRef holder;
        using (PyOwned h = t.New())
        {
            SetRef(h, target);
            holder = h.Ref;
            holder.IncRef(); // kept alive by this test's count only, besides the array's
        }
        (int count, PyOwned weak) = AbandonAReferrersArray(target);
        using (weak)
        {
            Assert.That(count, Is.EqualTo(1));
            Assert.That(holder.RefCount, Is.EqualTo(2), "the test's count and the abandoned array's");
            RunFinalisers();
            Assert.That(holder.RefCount, Is.EqualTo(2), "not released on the finaliser thread");
            Assert.That(Rt.ReleaseAbandoned(), Is.EqualTo(1));
            Assert.That(holder.RefCount, Is.EqualTo(1));
        }
        holder.DecRef();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint LeakARuntime()
    {
        var rt = new PyRuntime();
        using (PyOwned list = PyList.New(rt))
            list.Ref.IncRef(); // an object left alive in it
        return (nint)rt.Handle;
    }

    [Test]
    public void AnUndisposedRuntime_IsReported_AndNotFreed()
    {
        nint handle = LeakARuntime();
        RunFinalisers();
        string expected = $"PyRuntime 0x{(nuint)handle:x} was never disposed";
        Assert.That(_warnings, Has.Some.StartsWith(expected));
        Assert.That(PyRuntime.FromHandle((PaRuntime*)handle), Is.Null, "it is no longer a live PyRuntime");
        // Not freed: the runtime still answers C calls (a freed one would be refused as unknown).
        PyMemory.ClearError();
        Assert.That((long)NativeMethods.pa_gc_collect((PaRuntime*)handle, 2), Is.GreaterThanOrEqualTo(0), PyMemory.LastError);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint AbandonAnOwnerOfABareRuntime(PaRuntime* raw)
    {
        PyOwned list = PyOwned.Steal(new PyObjectRef(NativeMethods.pa_list_new(raw)));
        return (nint)list.Pointer;
    }

    [Test]
    public void AnUndisposedOwnerInABareRuntime_IsReported_AndItsReferenceKept()
    {
        PaRuntime* raw = NativeMethods.pa_runtime_new();
        try
        {
            nint p = AbandonAnOwnerOfABareRuntime(raw);
            RunFinalisers();
            Assert.That(_warnings, Has.Some.Contains($"the object at 0x{(nuint)p:x} was never disposed"));
            Assert.That(new PyObjectRef((PaObject*)p).RefCount, Is.EqualTo(1), "kept, as no thread is known to release it on");
        }
        finally
        {
            NativeMethods.pa_runtime_free(raw);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint AbandonAnOwnerThenDispose(PyRuntime rt)
    {
        nint handle = (nint)rt.Handle;
        PyOwned list = PyList.New(rt);
        _ = list;
        rt.Dispose();
        return handle;
    }

    [Test]
    public void AnOwnerFinalisedAfterItsRuntimeWasDisposed_DoesNothing()
    {
        var rt = new PyRuntime();
        nint handle = AbandonAnOwnerThenDispose(rt);
        RunFinalisers();
        Assert.That(rt.IsDisposed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => rt.ReleaseAbandoned());
        Assert.That(WarningsAbout(handle), Is.Empty);
    }

    [Test]
    public void AWarningHandlerThatThrows_IsReportedOnStderr_AndTheFinaliserThreadSurvives()
    {
        Action<string> thrower = _ => throw new InvalidOperationException("handler failed");
        PyRuntime.ResourceWarning += thrower;
        try
        {
            nint handle = LeakARuntime();
            RunFinalisers();
            Assert.That(WarningsAbout(handle), Has.Length.EqualTo(1), "the handler before it ran");
        }
        finally
        {
            PyRuntime.ResourceWarning -= thrower;
        }
    }

    [Test]
    public void TheSafeHandle_OwnsTheRuntime_AndDisposeFreesThroughIt()
    {
        var rt = new PyRuntime();
        nint handle = (nint)rt.Handle;
        PaRuntimeHandle safe = rt.SafeHandle;
        Assert.That(safe.IsInvalid, Is.False);
        Assert.That(safe.DangerousGetHandle(), Is.EqualTo((nint)rt.Handle));
        rt.Dispose();
        Assert.That(safe.IsClosed, Is.True, "Dispose freed the runtime through its SafeHandle");
        RunFinalisers();
        Assert.That(WarningsAbout(handle), Is.Empty, "a disposed runtime is not reported");
    }
}
