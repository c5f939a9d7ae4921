using System;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// Part 5 of the article: finalisers written in C# ([UnmanagedCallersOnly]) and called by the library:
/// PEP 442 finalisers run once and may resurrect; legacy finalisers make cycles uncollectable.
/// </summary>
[TestFixture]
public sealed unsafe class FinalizerTests : RuntimeFixture
{
    [Test]
    public void Finalizer_OfAnObjectDyingByCount_IsCalledOnce_WithTheObject()
    {
        PyType t = HolderType("Resource", finalize: Recorder.FinalizeRecord);
        PyOwned r = t.New();
        PyObjectRef address = r;
        r.Dispose();
        Assert.That(Recorder.Events, Is.EqualTo(new[] { ("finalize", address.Address) }));
    }

    [Test]
    public void Finalizers_InAnUnreachableCycle_AreEachCalledOnce_AndTheCycleIsCollected()
    {
        PyType t = HolderType("Finalizable", finalize: Recorder.FinalizeRecord);
        (PyObjectRef a, PyObjectRef b) = UnreachableCycle(t);
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        Assert.That(Recorder.Count("finalize", a), Is.EqualTo(1));
        Assert.That(Recorder.Count("finalize", b), Is.EqualTo(1));
        Assert.That(Rt.Collect(), Is.Zero);
        Assert.That(Recorder.Count("finalize"), Is.EqualTo(2), "no second call");
    }

    [Test]
    public void Finalizer_ThatResurrects_KeepsTheCycleAlive_CountsInNeitherCollectedNorUncollectable()
    {
        PyType phoenix = HolderType("Phoenix", finalize: Recorder.FinalizeResurrect);
        PyType plain = HolderType("Plain", finalize: Recorder.FinalizeRecord);
        PyOwned p = phoenix.New(), n = plain.New();
        SetRef(p, n);
        SetRef(n, p);
        using PyOwned wp = PyWeakRef.New(p), wn = PyWeakRef.New(n);
        PyObjectRef rp = p, rn = n;
        p.Dispose();
        n.Dispose();

        Assert.That(Rt.Collect(), Is.Zero, "resurrected objects count in neither collected nor uncollectable");
        Assert.That(Recorder.Resurrected, Is.EqualTo(new[] { rp.Address }));
        Assert.That((rp.RefCount, rn.RefCount), Is.EqualTo((2L, 1L)), "the phoenix lives (its new reference and n's), and so does what it reaches");
        Assert.That(rp.IsFinalized && rn.IsFinalized, Is.True, "both finalisers ran");
        Assert.That(IsAlive(wp) || IsAlive(wn), Is.False,
            "as CPython's handle_weakrefs: weakrefs to unreachable objects are cleared before finalisers run, resurrected or not");
        Assert.That(Rt.GetStats()[2], Is.EqualTo(new GcGenerationStats(1, 0, 0)));
        using (PyRefArray gen2 = Rt.GetObjects(2))
            Assert.That(gen2.Contains(rp) && gen2.Contains(rn), Is.True, "survivors move to the next generation");

        new PyObjectRef((PaObject*)Recorder.Resurrected[0]).DecRef(); // let it go again
        Recorder.Resurrected.Clear();
        Assert.That(Rt.Collect(), Is.EqualTo(2), "now the cycle is collected");
        Assert.That(Recorder.Count("finalize"), Is.EqualTo(2), "finalisers are not called a second time");
        Assert.That(TrackedObjects(), Is.EqualTo(2), "only our two weakrefs are left");
    }

    [Test]
    public void Finalizer_ThatResurrectsAnObjectDyingByCount_IsNotCalledWhenItDiesAgain()
    {
        PyType phoenix = HolderType("Phoenix", finalize: Recorder.FinalizeResurrect, dealloc: Recorder.DeallocRecord);
        PyOwned p = phoenix.New();
        PyObjectRef rp = p;
        p.Dispose();
        Assert.That(Recorder.Resurrected, Is.EqualTo(new[] { rp.Address }));
        Assert.That((rp.RefCount, rp.IsFinalized, rp.IsTracked), Is.EqualTo((1L, true, true)), "alive, finalised, tracked again");
        Assert.That(Recorder.Count("dealloc"), Is.Zero);

        rp.DecRef();
        Assert.That(Recorder.Events.Select(e => e.What), Is.EqualTo(new[] { "finalize", "dealloc" }));
    }

    [Test]
    public void LegacyDel_InAnUnreachableCycle_MakesItUncollectable_AndItGoesToGarbage()
    {
        PyType legacy = HolderType("Legacy", legacyDel: Recorder.LegacyDelRecord);
        using PyOwned reached = PyList.New(Rt);
        PyObjectRef a, b;
        using (PyOwned oa = legacy.New(), ob = legacy.New(), list = PyList.New(Rt))
        {
            // a -> list -> [b, reached]; b -> a
            PyList.Append(list, ob);
            PyList.Append(list, reached);
            SetRef(oa, list);
            SetRef(ob, oa);
            (a, b) = (oa, ob);
        }
        PyObjectRef between = new(a.As<Holder>()->Ref);
        var infos = new System.Collections.Generic.List<GcInfo>();
        using IDisposable _ = Rt.AddCallback((phase, info) => { if (phase == GcPhase.Stop) infos.Add(info); });

        long n = Rt.Collect();
        Assert.That(n, Is.EqualTo(3), "a, b and the list between them: uncollectable");
        Assert.That(infos, Is.EqualTo(new[] { new GcInfo(2, 0, 3) }));
        Assert.That(Recorder.Count("legacy_del"), Is.Zero, "a legacy finaliser is never called by the collector");
        using (PyRefArray garbage = Rt.GetGarbage())
            Assert.That(garbage.ToArray(), Is.EquivalentTo(new[] { a, b }), "only the objects with a legacy finaliser go to garbage");
        Assert.That(Rt.GetStats()[2].Uncollectable, Is.EqualTo(3));
        Assert.That(reached.RefCount, Is.EqualTo(2), "what they reach is kept, untouched");
        Assert.That(between.IsList && PyList.Count(between) == 2, Is.True);

        // The program breaks the cycle itself, as Python code would after inspecting gc.garbage.
        SetRef(b, PyObjectRef.Null);
        Rt.ClearGarbage();
        Assert.That(Recorder.Events.Where(e => e.What == "legacy_del").Select(e => e.Object), Is.EquivalentTo(new[] { a.Address, b.Address }),
            "dying by count, each legacy finaliser runs");
        Assert.That(reached.RefCount, Is.EqualTo(1));
    }

    [Test]
    public void LegacyDel_RunsWhenTheObjectDiesByCount()
    {
        PyType legacy = HolderType("Legacy", legacyDel: Recorder.LegacyDelRecord);
        PyOwned o = legacy.New();
        PyObjectRef r = o;
        o.Dispose();
        Assert.That(Recorder.Events, Is.EqualTo(new[] { ("legacy_del", r.Address) }));
    }

    [Test]
    public void Finalizer_ThatAllocates_DoesNotStartACollectionInsideACollection()
    {
        PyType t = HolderType("Allocating", finalize: Recorder.FinalizeAllocate);
        Recorder.AllocateIn = Rt.Handle;
        Recorder.AllocationsPerFinalizer = 50;
        Rt.Thresholds = (10, 10, 10);
        var phases = new System.Collections.Generic.List<GcPhase>();
        using IDisposable _ = Rt.AddCallback((phase, info) => phases.Add(phase));
        for (int i = 0; i < 4; i++)
            UnreachableCycle(t);

        Rt.Collect();
        Assert.That(Recorder.Count("finalize"), Is.EqualTo(8));
        Assert.That(phases, Is.Not.Empty);
        for (int i = 0; i < phases.Count; i++)
            Assert.That(phases[i], Is.EqualTo(i % 2 == 0 ? GcPhase.Start : GcPhase.Stop), $"phase {i}: starts and stops alternate, never nested");
        Assert.That(Rt.Collect(), Is.Zero, "the allocating finalisers left nothing behind");
    }
}
