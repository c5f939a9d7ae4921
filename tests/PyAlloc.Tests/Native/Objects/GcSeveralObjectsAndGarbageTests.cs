using System.Linq;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// gc.get_referrers / gc.get_referents of several objects and one item out of gc.garbage through the binding
/// (issue 17, item 7).
/// </summary>
[TestFixture]
public sealed unsafe class GcSeveralObjectsAndGarbageTests : RuntimeFixture
{
    /// <summary>CPython: gc.get_referrers(x, y) is every referrer of either, each once; gc.get_referrers() == [].</summary>
    [Test]
    public void GetReferrers_OfSeveralObjects_IsTheUnion_EachOnce()
    {
        using PyOwned x = PyList.New(Rt), y = PyList.New(Rt);
        using PyOwned l1 = PyList.New(Rt), l2 = PyList.New(Rt), both = PyList.New(Rt);
        PyList.Append(l1, x);
        PyList.Append(l2, y);
        PyList.Append(both, x);
        PyList.Append(both, y);
        PyList.Append(both, x);
        using (PyRefArray r = Rt.GetReferrers(x.Ref, y.Ref))
            Assert.That(r, Is.EquivalentTo(new[] { l1.Ref, l2.Ref, both.Ref }));
        using (PyRefArray r = Rt.GetReferrers(x.Ref, x.Ref))
            Assert.That(r, Is.EquivalentTo(new[] { l1.Ref, both.Ref }), "an object given twice counts once");
        using (PyRefArray r = Rt.GetReferrers())
            Assert.That(r, Is.Empty);
        Assert.That(() => Rt.GetReferrers(x.Ref, default), Throws.TypeOf<PyAllocException>().With.Message.Contains("objs[1]"));
    }

    /// <summary>CPython: gc.get_referents(a, b) == get_referents(a) + get_referents(b), duplicates kept.</summary>
    [Test]
    public void GetReferents_OfSeveralObjects_InOrder_DuplicatesKept()
    {
        using PyOwned x = PyList.New(Rt), y = PyList.New(Rt);
        using PyOwned l = PyList.New(Rt), m = PyList.New(Rt);
        PyList.Append(l, x);
        PyList.Append(l, y);
        PyList.Append(m, y);
        using (PyRefArray r = Rt.GetReferents(l.Ref, m.Ref, l.Ref))
            Assert.That(r.ToArray(), Is.EqualTo(new[] { y.Ref, x.Ref, y.Ref, y.Ref, x.Ref }), "list items last first");
        using (PyRefArray r = Rt.GetReferents())
            Assert.That(r, Is.Empty);
        Assert.That(() => Rt.GetReferents(default(PyObjectRef), l.Ref), Throws.TypeOf<PyAllocException>());
    }

    /// <summary>del gc.garbage[-1]; gc.garbage.remove(o); out of range and absent objects raise.</summary>
    [Test]
    public void OneItemLeavesGarbage_ByIndexOrByObject()
    {
        PyType legacy = HolderType("Legacy", legacyDel: Recorder.LegacyDelRecord);
        UnreachableCycle(legacy);
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        PyObjectRef first, second;
        using (PyRefArray g = Rt.GetGarbage())
        {
            Assert.That(g, Has.Count.EqualTo(2));
            (first, second) = (g[0], g[1]);
        }
        Rt.RemoveGarbageAt(-1);
        using (PyRefArray g = Rt.GetGarbage())
            Assert.That(g.ToArray(), Is.EqualTo(new[] { first }));
        Assert.That(() => Rt.RemoveGarbageAt(1), Throws.TypeOf<PyAllocException>()
            .With.Message.Contains("list assignment index out of range"));
        Assert.That(() => Rt.RemoveGarbage(second), Throws.TypeOf<PyAllocException>()
            .With.Message.Contains("list.remove(x): x not in list"));
        Rt.RemoveGarbage(first);
        using (PyRefArray g = Rt.GetGarbage())
            Assert.That(g, Is.Empty);
        Assert.That(Rt.Collect(), Is.EqualTo(2), "still an uncollectable cycle: back in gc.garbage");
        using (PyRefArray g = Rt.GetGarbage())
            Assert.That(g, Has.Count.EqualTo(2));
    }
}
