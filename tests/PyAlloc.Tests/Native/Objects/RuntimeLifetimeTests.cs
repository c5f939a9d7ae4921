using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>The end of a runtime (pa_runtime_free through PyRuntime.Dispose), and runtimes side by side.</summary>
[TestFixture]
public sealed unsafe class RuntimeLifetimeTests : RuntimeFixture
{
    [Test]
    public void Dispose_CollectsCyclesOneLastTime_ThenReleasesLiveObjectsWithoutFinaliserOrDealloc()
    {
        var gcEvents = new List<(GcPhase, GcInfo)>();
        Rt.AddCallback((phase, info) => gcEvents.Add((phase, info)));
        PyType t = HolderType("Finalizable", finalize: Recorder.FinalizeRecord, dealloc: Recorder.DeallocRecord);
        (PyObjectRef a, PyObjectRef b) = UnreachableCycle(t);
        int cycleCallbacks = 0, liveCallbacks = 0;
        PyOwned weakA = PyWeakRef.New(a, _ => cycleCallbacks++);
        PyOwned live = t.New();
        PyOwned weakLive = PyWeakRef.New(live, _ => liveCallbacks++);
        PyObjectRef liveRef = live;
        Assert.That(Rt.RegisteredCallbackHandles, Is.EqualTo(3));

        Rt.Dispose();

        Assert.That(gcEvents, Is.EqualTo(new[] { (GcPhase.Start, new GcInfo(2, 0, 0)), (GcPhase.Stop, new GcInfo(2, 2, 0)) }),
            "the final full collection, with the gc callbacks");
        Assert.That((Recorder.Count("finalize", a), Recorder.Count("finalize", b)), Is.EqualTo((1, 1)), "the cycle's finalisers ran");
        Assert.That((Recorder.Count("dealloc", a), Recorder.Count("dealloc", b)), Is.EqualTo((1, 1)), "and the cycle died normally");
        Assert.That(cycleCallbacks, Is.EqualTo(1), "the weakref callback of a collected target ran");
        Assert.That((Recorder.Count("finalize", liveRef), Recorder.Count("dealloc", liveRef)), Is.EqualTo((0, 0)),
            "a live object is released without its finaliser or dealloc");
        Assert.That(liveCallbacks, Is.Zero, "nor its weakref callbacks");
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero, "every delegate handle is freed");

        Assert.That(Rt.IsDisposed, Is.True);
        Assert.That(PyRuntime.FromHandle(null), Is.Null);
        Assert.DoesNotThrow(() =>
        {
            live.Dispose();       // the memory is gone: releases nothing
            weakA.Dispose();
            weakLive.Dispose();
            Rt.Dispose();         // twice: nothing
        });
        Assert.Throws<ObjectDisposedException>(() => _ = Rt.Handle);
        Assert.Throws<ObjectDisposedException>(() => Rt.Collect());
        Assert.Throws<ObjectDisposedException>(() => Rt.GetObjects());
        Assert.Throws<ObjectDisposedException>(() => PyList.New(Rt));
        Assert.Throws<ObjectDisposedException>(() => t.New());
        Assert.Throws<ObjectDisposedException>(() => Rt.AddCallback((_, _) => { }));
    }

    [Test]
    public void Dispose_WithUncollectableGarbageLeft_DoesNotCallTheLegacyFinalisers()
    {
        PyType legacy = HolderType("Legacy", legacyDel: Recorder.LegacyDelRecord);
        UnreachableCycle(legacy);
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        UnreachableCycle(legacy);
        Rt.Dispose();
        Assert.That(Recorder.Count("legacy_del"), Is.Zero);
    }

    [Test]
    public void FromHandle_FindsTheLiveRuntime_AndForgetsItWhenDisposed()
    {
        PaRuntime* h = Rt.Handle;
        Assert.That(PyRuntime.FromHandle(h), Is.SameAs(Rt));
        using PyOwned list = PyList.New(Rt);
        Assert.That(list.Ref.Runtime, Is.SameAs(Rt));
        Rt.Dispose();
        Assert.That(PyRuntime.FromHandle(h), Is.Null);
    }

    [Test]
    public void Runtimes_AreIndependent_DisposingOneLeavesTheOtherIntact()
    {
        using var other = new PyRuntime();
        using PyOwned kept = PyList.New(other);
        using PyOwned weak = PyWeakRef.New(kept);
        UnreachableCycle(HolderType());
        Rt.Dispose();
        Assert.That(IsAlive(weak), Is.True);
        Assert.That(other.GetCount().Gen0, Is.EqualTo(2), "the list and its weakref");
        Assert.That(other.Collect(), Is.Zero);
    }

    [Test]
    public void TwoRuntimes_OnTwoThreadsAtOnce_EachCollectsItsOwnCycles()
    {
        const int rounds = 20, cyclesPerRound = 200;
        var results = new long[2][];
        var errors = new Exception?[2];
        var callbacks = new int[2];
        using var start = new Barrier(2);
        var threads = Enumerable.Range(0, 2).Select(id => new Thread(() =>
        {
            try
            {
                using var rt = new PyRuntime();
                rt.AddCallback((phase, _) => callbacks[id]++);
                results[id] = new long[rounds];
                start.SignalAndWait();
                for (int r = 0; r < rounds; r++)
                {
                    for (int i = 0; i < cyclesPerRound; i++)
                    {
                        using PyOwned a = PyList.New(rt), b = PyList.New(rt);
                        PyList.Append(a, b);
                        PyList.Append(b, a);
                    }
                    results[id][r] = rt.Collect();
                }
            }
            catch (Exception e)
            {
                errors[id] = e;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.That(errors, Has.All.Null);
        Assert.That(callbacks, Has.All.EqualTo(2 * (rounds + 1)), "a runtime's own collections reach its callback, and the final one of Dispose");
        Assert.That(results.SelectMany(r => r), Has.All.EqualTo(2 * cyclesPerRound),
            "each explicit collection finds every cycle of its round (thresholds are far above 400 allocations)");
    }
}
