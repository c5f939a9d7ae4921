using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// Parts 2 to 4 of the article through the binding: cycles, the collector, generations; and the gc
/// module's introspection (get_objects, get_referrers, get_referents, freeze, debug flags, stats).
/// </summary>
[TestFixture]
public sealed unsafe class CycleCollectionTests : RuntimeFixture
{
    [Test]
    public void Article_ASimpleCycle_CountsAre2_ThenAfterDel1_AndCollectFindsBoth()
    {
        PyOwned a = PyList.New(Rt);
        PyOwned b = PyList.New(Rt);
        PyList.Append(a, b);
        PyList.Append(b, a);
        Assert.That((a.RefCount, b.RefCount), Is.EqualTo((2L, 2L)), "ref count of a, ref count of b");
        using PyOwned wa = PyWeakRef.New(a), wb = PyWeakRef.New(b);
        PyObjectRef ra = a, rb = b;

        a.Dispose(); // del a
        b.Dispose(); // del b
        Assert.That((ra.RefCount, rb.RefCount), Is.EqualTo((1L, 1L)), "still alive: each keeps the other");
        Assert.That(IsAlive(wa) && IsAlive(wb), Is.True);

        Assert.That(Rt.Collect(), Is.EqualTo(2), "Collected 2 unreachable objects");
        Assert.That(IsAlive(wa) || IsAlive(wb), Is.False);
        Assert.That(Rt.Collect(), Is.Zero, "nothing left to find");
    }

    [Test]
    public void Article_DetectingReferenceCycles_NodesReferringToEachOther_Collected2()
    {
        PyType node = HolderType("Node");
        (PyObjectRef a, PyObjectRef b) = UnreachableCycle(node);
        Assert.That((a.RefCount, b.RefCount), Is.EqualTo((1L, 1L)));
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        Assert.That(TrackedObjects(), Is.Zero);
    }

    [Test]
    public void Article_ParentChildNodes_DefinedFromDotNetWithRefOffsets_AreCollectedWithTheirChildrenLists()
    {
        PyType nodeType = PyType.Define<Node>(Rt, "Node");
        Assert.That(nodeType.RefOffsets, Is.EqualTo(new long[] { 24, 32 }), "Parent and Children, after the header and Value");
        Assert.That(nodeType.BasicSize, Is.EqualTo(40));

        PyOwned NewNode(long value)
        {
            PyOwned n = nodeType.New();
            n.As<Node>()->Value = value;
            using PyOwned children = PyList.New(Rt);
            PyObjectRef.Assign(&n.As<Node>()->Children, children); // self.children = []
            return n;
        }
        void AddChild(PyObjectRef self, PyObjectRef child)
        {
            PyObjectRef.Assign(&child.As<Node>()->Parent, self);  // child.parent = self
            PyList.Append(new PyObjectRef(self.As<Node>()->Children), child); // self.children.append(child)
        }

        PyOwned root = NewNode(1), child = NewNode(2);
        AddChild(root, child);
        using (PyRefArray referents = child.Ref.GetReferents())
            Assert.That(referents.ToArray(), Is.EqualTo(new[] { root.Ref, new PyObjectRef(child.As<Node>()->Children) }),
                "a child refers to its parent and its children list, in ref_offsets order");
        using (PyRefArray referrers = Rt.GetReferrers(root))
            Assert.That(referrers.ToArray(), Is.EqualTo(new[] { child.Ref }));
        using PyOwned weakRoot = PyWeakRef.New(root);

        root.Dispose();
        child.Dispose();
        Assert.That(IsAlive(weakRoot), Is.True, "the parent/child cycle keeps both alive");
        Assert.That(Rt.Collect(), Is.EqualTo(4), "two nodes and their two children lists");
        Assert.That(IsAlive(weakRoot), Is.False);
    }

    [Test]
    public void Generations_ObjectsMoveUpOneGenerationPerCollection_InTheirOrder()
    {
        using PyOwned a = PyList.New(Rt), b = PyList.New(Rt), c = PyList.New(Rt);
        PyObjectRef[] created = [a, b, c];
        Assert.That(Rt.GetCount(), Is.EqualTo((3L, 0L, 0L)));
        AssertGenerations(created, [], []);

        Assert.That(Rt.Collect(0), Is.Zero);
        Assert.That(Rt.GetCount(), Is.EqualTo((0L, 1L, 0L)), "collect(0) empties generation 0 and counts one in generation 1");
        AssertGenerations([], created, []);

        Assert.That(Rt.Collect(1), Is.Zero);
        Assert.That(Rt.GetCount(), Is.EqualTo((0L, 0L, 1L)));
        AssertGenerations([], [], created);

        Assert.That(Rt.Collect(2), Is.Zero);
        Assert.That(Rt.GetCount(), Is.EqualTo((0L, 0L, 0L)));
        AssertGenerations([], [], created);

        using PyRefArray all = Rt.GetObjects();
        Assert.That(all.ToArray(), Is.EqualTo(created), "get_objects() with no generation: all three");
        Assert.That(Rt.GetStats().Select(s => s.Collections), Is.EqualTo(new long[] { 1, 1, 1 }));
    }

    private void AssertGenerations(PyObjectRef[] gen0, PyObjectRef[] gen1, PyObjectRef[] gen2)
    {
        PyObjectRef[][] expected = [gen0, gen1, gen2];
        for (int g = 0; g < 3; g++)
        {
            using PyRefArray objects = Rt.GetObjects(g);
            Assert.That(objects.ToArray(), Is.EqualTo(expected[g]), $"generation {g}, oldest first");
        }
    }

    [Test]
    public void Collect_OfAYoungGeneration_LeavesCyclesInOlderGenerationsAlone()
    {
        UnreachableCycle(HolderType());
        Assert.That(Rt.Collect(0), Is.EqualTo(2), "found while young");

        using PyOwned a = PyList.New(Rt), b = PyList.New(Rt);
        PyList.Append(a, b);
        PyList.Append(b, a);
        Assert.That(Rt.Collect(0), Is.Zero);  // reachable: both move to generation 1
        PyObjectRef ra = a, rb = b;
        a.Dispose();
        b.Dispose();
        Assert.That(Rt.Collect(0), Is.Zero, "the cycle is in generation 1 now");
        Assert.That((ra.RefCount, rb.RefCount), Is.EqualTo((1L, 1L)));
        Assert.That(Rt.Collect(1), Is.EqualTo(2));
    }

    [Test]
    public void Stats_CountCollectionsAndCollectedObjectsPerGeneration()
    {
        UnreachableCycle(HolderType());
        long n0 = Rt.Collect(0);
        UnreachableCycle(HolderType());
        UnreachableCycle(HolderType());
        long n2 = Rt.Collect(2);
        IReadOnlyList<GcGenerationStats> stats = Rt.GetStats();
        Assert.That(stats[0], Is.EqualTo(new GcGenerationStats(1, n0, 0)));
        Assert.That(stats[1], Is.EqualTo(new GcGenerationStats(0, 0, 0)));
        Assert.That(stats[2], Is.EqualTo(new GcGenerationStats(1, n2, 0)));
        Assert.That((n0, n2), Is.EqualTo((2L, 4L)));
    }

    [Test]
    public void GetReferents_OfAList_AreItsItemsInTraversalOrder_LastFirstAsCPythonsListTraverse()
    {
        using PyOwned list = PyList.New(Rt), x = PyList.New(Rt), y = PyList.New(Rt);
        PyList.Append(list, x);
        PyList.Append(list, y);
        using PyRefArray referents = Rt.GetReferents(list);
        Assert.That(referents.ToArray(), Is.EqualTo(new[] { y.Ref, x.Ref }));
        Assert.That(x.RefCount, Is.EqualTo(3), "ours, the list's and the array's new reference");
    }

    [Test]
    public void GetReferents_OfANonGcObject_IsEmpty()
    {
        PyType plain = PyType.Define<Holder>(Rt, "Plain", PyTypeFlags.None);
        using PyOwned o = plain.New();
        using PyOwned item = PyList.New(Rt);
        SetRef(o, item);
        Assert.That(o.Ref.IsTracked, Is.False);
        using PyRefArray referents = o.Ref.GetReferents();
        Assert.That(referents, Is.Empty);
    }

    [Test]
    public void GetReferrers_AreTheTrackedObjectsReferringToTheTarget()
    {
        using PyOwned target = PyList.New(Rt), l1 = PyList.New(Rt), l2 = PyList.New(Rt), unrelated = PyList.New(Rt);
        PyList.Append(l1, target);
        PyList.Append(l2, target);
        PyList.Append(l2, target);
        PyList.Append(unrelated, l1);
        using PyRefArray referrers = Rt.GetReferrers(target);
        Assert.That(referrers.ToArray(), Is.EquivalentTo(new[] { l1.Ref, l2.Ref }), "each referrer once");
    }

    [Test]
    public void GetReferrers_OfASelfReferencingList_IncludesTheListItself_AsCPython()
    {
        // CPython 3.12: a = []; a.append(a); a in gc.get_referrers(a) -> True (gc_referrers_for skips
        // only the argument tuple and the result list, not the target).  The header: "the tracked
        // objects (frozen ones excepted) that refer to target".
        using PyOwned a = PyList.New(Rt);
        PyList.Append(a, a);
        using PyRefArray referrers = Rt.GetReferrers(a);
        Assert.That(referrers.ToArray(), Is.EqualTo(new[] { a.Ref }));
    }

    [Test]
    public void Freeze_MovesEveryTrackedObjectToThePermanentGeneration_WhichCollectionsIgnore()
    {
        using PyOwned kept = PyList.New(Rt);
        (PyObjectRef a, PyObjectRef b) = UnreachableCycle(HolderType());
        using PyOwned wa = PyWeakRef.New(a);
        long tracked = TrackedObjects();

        Rt.Freeze();
        Assert.That(Rt.FreezeCount, Is.EqualTo(tracked));
        Assert.That(TrackedObjects(), Is.Zero, "frozen objects are in no generation");
        Assert.That(Rt.GetCount().Gen0, Is.Zero);
        Assert.That(Rt.Collect(), Is.Zero, "the frozen cycle is ignored");
        using (PyRefArray referrers = Rt.GetReferrers(b))
            Assert.That(referrers, Is.Empty, "frozen referrers are not reported");

        Rt.Unfreeze();
        Assert.That(Rt.FreezeCount, Is.Zero);
        using (PyRefArray gen2 = Rt.GetObjects(2))
            Assert.That(gen2.Count, Is.EqualTo(tracked), "unfreeze: back into generation 2");
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        Assert.That(IsAlive(wa), Is.False);
    }

    [Test]
    public void ImmortalTrackedObjects_MoveToThePermanentGenerationAtTheNextCollection()
    {
        using PyOwned list = PyList.New(Rt);
        NativeMethods.pa_object_make_immortal(list.Pointer);
        Rt.Collect(0);
        Assert.That(Rt.FreezeCount, Is.EqualTo(1));
        Assert.That(TrackedObjects(), Is.Zero);
    }

    [TestCase(GcDebugFlags.None)]
    [TestCase(GcDebugFlags.Stats)]
    [TestCase(GcDebugFlags.Collectable | GcDebugFlags.Uncollectable)]
    [TestCase(GcDebugFlags.SaveAll)]
    [TestCase(GcDebugFlags.Leak)]
    public void DebugFlags_RoundTrip(GcDebugFlags flags)
    {
        Rt.Debug = flags;
        Assert.That(Rt.Debug, Is.EqualTo(flags));
        Assert.That(NativeMethods.pa_gc_get_debug(Rt.Handle), Is.EqualTo((int)flags));
    }

    [Test]
    public void DebugFlags_UnknownBits_AreIgnoredWithAnError_AndTheKnownOnesKept()
    {
        Rt.Debug = GcDebugFlags.SaveAll | (GcDebugFlags)64;
        Assert.That(Rt.Debug, Is.EqualTo(GcDebugFlags.SaveAll));
        Assert.That(PyMemory.LastError, Does.StartWith("pa_gc_set_debug:").And.Contain("0x40"));
    }

    [Test]
    public void DebugSaveAll_KeepsCollectedObjectsInGarbageInsteadOfFreeingThem()
    {
        Rt.Debug = GcDebugFlags.SaveAll;
        (PyObjectRef a, PyObjectRef b) = UnreachableCycle(HolderType());
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        using (PyRefArray garbage = Rt.GetGarbage())
            Assert.That(garbage.ToArray(), Is.EquivalentTo(new[] { a, b }));
        Assert.That(Rt.GetStats()[2].Uncollectable, Is.Zero, "saved, not uncollectable");

        Rt.Debug = GcDebugFlags.None;
        Rt.ClearGarbage();
        using (PyRefArray garbage = Rt.GetGarbage())
            Assert.That(garbage, Is.Empty);
        Assert.That(Rt.Collect(), Is.EqualTo(2), "back to an ordinary unreachable cycle");
    }

    [Test]
    public void TrackAndUntrack_DecideWhatTheCollectorSees()
    {
        using PyOwned list = PyList.New(Rt);
        Assert.That(list.Ref.IsTracked, Is.True);
        list.Ref.Untrack();
        Assert.That(list.Ref.IsTracked, Is.False);
        Assert.That(TrackedObjects(), Is.Zero);
        list.Ref.Untrack();
        list.Ref.Track();
        list.Ref.Track();
        Assert.That(list.Ref.IsTracked, Is.True);
        Assert.That(TrackedObjects(), Is.EqualTo(1));

        PyType plain = PyType.Define<Holder>(Rt, "Plain", PyTypeFlags.None);
        using PyOwned o = plain.New();
        o.Ref.Track();
        Assert.That(o.Ref.IsTracked, Is.False, "a non-GC object is never tracked");
    }
}
