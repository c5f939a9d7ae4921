using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary><c>gc.callbacks</c> written in C#: phases and info, order, removal, handles, exceptions.</summary>
[TestFixture]
public sealed unsafe class GcCallbackTests : RuntimeFixture
{
    [Test]
    public void Callback_IsToldStartThenStop_WithTheGenerationAndTheCounts()
    {
        var seen = new List<(GcPhase, GcInfo)>();
        using IDisposable registration = Rt.AddCallback((phase, info) => seen.Add((phase, info)));
        UnreachableCycle(HolderType());
        Rt.Collect(1);
        Assert.That(seen, Is.EqualTo(new[]
        {
            (GcPhase.Start, new GcInfo(1, 0, 0)),
            (GcPhase.Stop, new GcInfo(1, 2, 0)),
        }));
    }

    [Test]
    public void Callbacks_RunInTheOrderAdded_AndRemovedOnesNoLonger()
    {
        var order = new List<string>();
        Action<GcPhase, GcInfo> first = (p, _) => order.Add($"first {p}");
        Action<GcPhase, GcInfo> second = (p, _) => order.Add($"second {p}");
        Rt.AddCallback(first);
        IDisposable secondRegistration = Rt.AddCallback(second);
        Rt.Collect(0);
        Assert.That(order, Is.EqualTo(new[] { "first Start", "second Start", "first Stop", "second Stop" }));

        order.Clear();
        Assert.That(Rt.RemoveCallback(first), Is.True);
        Assert.That(Rt.RemoveCallback(first), Is.False, "not registered any more");
        Rt.Collect(0);
        Assert.That(order, Is.EqualTo(new[] { "second Start", "second Stop" }));

        order.Clear();
        secondRegistration.Dispose();
        secondRegistration.Dispose();
        Rt.Collect(0);
        Assert.That(order, Is.Empty);
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero, "removing frees the delegate's handle");
    }

    [Test]
    public void Callback_MayRemoveItselfWhileRunning()
    {
        int calls = 0;
        IDisposable? registration = null;
        registration = Rt.AddCallback((_, _) =>
        {
            calls++;
            registration!.Dispose();
        });
        Rt.Collect(0);
        Rt.Collect(0);
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public void Collect_InsideACallback_Returns0_ACollectionIsAlreadyRunning()
    {
        var inner = new List<long>();
        Rt.AddCallback((_, _) => inner.Add(Rt.Collect()));
        UnreachableCycle(HolderType());
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        Assert.That(inner, Is.EqualTo(new long[] { 0, 0 }));
    }

    [Test]
    public void ACallbackThatThrows_GoesToCallbackException_AndTheCollectionCompletes()
    {
        var errors = new List<Exception>();
        Rt.CallbackException += errors.Add;
        Rt.AddCallback((phase, _) =>
        {
            if (phase == GcPhase.Start)
                throw new InvalidOperationException("start failed");
        });
        UnreachableCycle(HolderType());
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        Assert.That(errors.Select(e => e.Message), Is.EqualTo(new[] { "start failed" }));
    }

    [Test]
    public void DisposingTheRuntimeInsideItsOwnCallback_IsRefused()
    {
        var errors = new List<Exception>();
        Rt.CallbackException += errors.Add;
        Rt.AddCallback((_, _) => Rt.Dispose());
        Rt.Collect(0);
        Assert.That(errors, Has.Count.EqualTo(2).And.All.InstanceOf<InvalidOperationException>());
        Assert.That(Rt.IsDisposed, Is.False);
    }

    [Test]
    public void AutomaticCollections_TellTheCallbacksTheirGeneration()
    {
        var starts = new List<int>();
        Rt.AddCallback((phase, info) => { if (phase == GcPhase.Start) starts.Add(info.Generation); });
        Rt.Thresholds = (3, 100, 100);
        var kept = new List<PyOwned>();
        for (int i = 0; i < 4; i++)
            kept.Add(PyList.New(Rt));
        Assert.That(starts, Is.EqualTo(new[] { 0 }), "the fourth GC allocation passed threshold 3");
        kept.ForEach(o => o.Dispose());
    }
}
