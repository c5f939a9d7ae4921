using System.Collections.Generic;
using System.Reflection;
using NUnit.Framework;
using PyAlloc.Core.Gc;
using PyAlloc.Core.Objects;
using CoreObject = PyAlloc.Core.Abi.PaObject;

namespace PyAlloc.Tests.Core;

/// <summary>The collector driven in-process: deduce_unreachable's lists, counts, stats, the long-lived bookkeeping.</summary>
[TestFixture]
public sealed unsafe class CollectorTests : CoreRuntimeFixture
{
    private static List<nint> Objects(GcHead* list, bool masked = false)
    {
        var objects = new List<nint>();
        for (GcHead* g = (GcHead*)(list->Next & ~GcHead.NextMaskUnreachable); g != list;
             g = (GcHead*)(g->Next & (masked ? ~GcHead.NextMaskUnreachable : ~(nuint)0)))
        {
            objects.Add((nint)GcHead.ObjectOf(g));
            Assert.That(objects.Count, Is.LessThan(1000));
        }
        return objects;
    }

    /// <summary>The private step deduce_unreachable (update_refs, subtract_refs, move_unreachable).</summary>
    private static delegate*<Runtime*, GcHead*, GcHead*, void> DeduceUnreachable =>
        (delegate*<Runtime*, GcHead*, GcHead*, void>)typeof(Collector)
            .GetMethod("DeduceUnreachable", BindingFlags.NonPublic | BindingFlags.Static)!.MethodHandle.GetFunctionPointer();

    [Test]
    public void DeduceUnreachable_KeepsReachableObjectsInOrder_AppendsTheOnesFoundReachableLate_AndMovesTheRest()
    {
        CoreObject* a = NewList();       // ours
        CoreObject* b = NewList();       // only c refers to it: looks unreachable until c is scanned
        CoreObject* c = NewList();       // ours, refers to b
        CoreObject* u1 = NewList();      // u1 <-> u2: unreachable
        CoreObject* u2 = NewList();
        Append(c, b);
        RefCount.Decref(b);
        Append(u1, u2);
        Append(u2, u1);
        RefCount.Decref(u1);
        RefCount.Decref(u2);
        GcHead* young = Generation(0);
        Assert.That(Objects(young), Is.EqualTo(new[] { (nint)a, (nint)b, (nint)c, (nint)u1, (nint)u2 }));

        GcHead unreachable;
        DeduceUnreachable(Rt, young, &unreachable);

        Assert.That(Objects(young), Is.EqualTo(new[] { (nint)a, (nint)c, (nint)b }),
            "a and c keep their order; b, moved back when c was scanned, goes to the end");
        Assert.That(Objects(&unreachable, masked: true), Is.EqualTo(new[] { (nint)u1, (nint)u2 }));
        Assert.That(new[] { (nint)a, (nint)b, (nint)c }, Has.All.Matches<nint>(o => !GcHead.Of((CoreObject*)o)->IsCollecting),
            "reachable objects are no longer Collecting");
        Assert.That(GcHead.Of(u1)->IsCollecting && GcHead.Of(u2)->IsCollecting, Is.True);
        for (GcHead* g = (GcHead*)young->Next; g != young; g = (GcHead*)g->Next)
            Assert.That((g->Next & GcHead.NextMaskUnreachable) == 0, Is.True, "young is a normal list again");

        // Put the unreachable objects back as an ordinary tracked list (as move_legacy_finalizers would),
        // and let the real collector find them.
        for (GcHead* g = (GcHead*)(unreachable.Next & ~GcHead.NextMaskUnreachable); g != &unreachable;)
        {
            GcHead* next = (GcHead*)(g->Next & ~GcHead.NextMaskUnreachable);
            g->Next &= ~GcHead.NextMaskUnreachable;
            g->Prev &= ~GcHead.PrevMaskCollecting;
            g = next;
        }
        unreachable.Next &= ~GcHead.NextMaskUnreachable;
        GcList.Merge(&unreachable, young);
        Assert.That((long)GcModule.Collect(Rt, 0), Is.EqualTo(2));
        RefCount.Decref(a);
        RefCount.Decref(c);
    }

    [Test]
    public void Collect_CountsAndStats_AsCPython()
    {
        CoreObject* kept = NewList();
        UnreachablePairOfLists();
        Assert.That((long)Rt->Gc.Generations[0].Count, Is.EqualTo(3));

        Assert.That((long)GcModule.Collect(Rt, 0), Is.EqualTo(2));
        Assert.That(((long)Rt->Gc.Generations[0].Count, (long)Rt->Gc.Generations[1].Count), Is.EqualTo((0L, 1L)));
        Assert.That(Rt->Gc.Stats[0].Collections, Is.EqualTo((nint)1));
        Assert.That(Rt->Gc.Stats[0].Collected, Is.EqualTo((nint)2));
        Assert.That(Objects(Generation(1)), Is.EqualTo(new[] { (nint)kept }), "the survivor moved up");
        Assert.That((long)GcModule.Collect(Rt, 7), Is.EqualTo(-1), "a bad generation is refused");
        RefCount.Decref(kept);
    }

    [Test]
    public void LongLivedTotalAndPending_FollowFullAndGeneration1Collections()
    {
        var kept = new List<nint>();
        for (int i = 0; i < 12; i++)
            kept.Add((nint)NewList());
        GcModule.Collect(Rt, 2);
        Assert.That(((long)Rt->Gc.LongLivedTotal, (long)Rt->Gc.LongLivedPending), Is.EqualTo((12L, 0L)));

        for (int i = 0; i < 5; i++)
            kept.Add((nint)NewList());
        GcModule.Collect(Rt, 1);
        Assert.That(((long)Rt->Gc.LongLivedTotal, (long)Rt->Gc.LongLivedPending), Is.EqualTo((12L, 5L)), "pending: survivors of a generation-1 collection");
        GcModule.Collect(Rt, 0);
        Assert.That((long)Rt->Gc.LongLivedPending, Is.EqualTo(5L), "a generation-0 collection does not change it");
        GcModule.Collect(Rt, 2);
        Assert.That(((long)Rt->Gc.LongLivedTotal, (long)Rt->Gc.LongLivedPending), Is.EqualTo((17L, 0L)));
        foreach (nint o in kept)
            RefCount.Decref((CoreObject*)o);
    }

    [Test]
    public void WeakrefsToAnObject_SetItsFlag_AndLeaveNoTraceWhenTheyDie()
    {
        CoreObject* target = NewList();
        CoreObject* w1 = WeakrefObject.New(target, null, null);
        CoreObject* w2 = WeakrefObject.New(target, null, null);
        Assert.That((nint)w2, Is.EqualTo((nint)w1), "shared");
        Assert.That(GcHead.Of(target)->HasWeakrefs, Is.True);
        Assert.That((long)WeakrefObject.Count(target), Is.EqualTo(1));
        RefCount.Decref(w1);
        RefCount.Decref(w2);
        Assert.That(GcHead.Of(target)->HasWeakrefs, Is.False);
        Assert.That((long)Rt->Weakrefs.Get(target), Is.Zero, "the runtime's table forgot the target");
        RefCount.Decref(target);
    }

    [Test]
    public void Freeze_MergesEveryGenerationIntoThePermanentOne_AndUnfreezeIntoTheOldest()
    {
        CoreObject* a = NewList();
        GcModule.Collect(Rt, 0);
        CoreObject* b = NewList();
        GcModule.Freeze(Rt);
        Assert.That(Objects(&Rt->Gc.Permanent), Is.EqualTo(new[] { (nint)b, (nint)a }), "generation 0 first, then older ones");
        Assert.That(Objects(Generation(0)), Is.Empty);
        GcModule.Unfreeze(Rt);
        Assert.That(Objects(Generation(2)), Is.EqualTo(new[] { (nint)b, (nint)a }));
        RefCount.Decref(a);
        RefCount.Decref(b);
    }

    [Test]
    public void ValidateList_RunsBetweenThePhases_InDebugBuildsOnly()
    {
        UnreachablePairOfLists();
        long before = GcList.Validations;
        Assert.That((long)GcModule.Collect(Rt, 2), Is.EqualTo(2));
#if DEBUG
        Assert.That(GcList.Validations - before, Is.GreaterThanOrEqualTo(8), "validate_list ran between the phases");
#else
        Assert.That(GcList.Validations, Is.Zero, "compiled out of Release builds");
#endif
    }

    /* Two lists that hold each other, the test's references dropped: one cycle of garbage. */
    private void UnreachablePairOfLists()
    {
        CoreObject* x = NewList();
        CoreObject* y = NewList();
        Append(x, y);
        Append(y, x);
        RefCount.Decref(x);
        RefCount.Decref(y);
    }
}
