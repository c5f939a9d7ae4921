using System;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>The article's Node, declared without <c>unsafe</c>: a header, a value, and [PyRef] PyObjectRef fields.</summary>
public struct SafeNode
{
    public PaObject Header;
    public long Value;
    [PyRef] public PyObjectRef Parent;
    [PyRef] public PyObjectRef Children;
}

/// <summary>The same layout with PaObject* fields, the unsafe way.</summary>
public unsafe struct PointerNode
{
    public PaObject Header;
    public long Value;
    [PyRef] public PaObject* Parent;
    [PyRef] public PaObject* Children;
}

/// <summary>Types whose layout needs no unsafe code: PyObjectRef fields, AsRef, Assign and Clear by reference.</summary>
[TestFixture]
public sealed class SafeLayoutTests : RuntimeFixture
{
    [Test]
    public void PyObjectRefFields_GiveTheSameLayoutAsPaObjectPointers()
    {
        PyType safe = PyType.Define<SafeNode>(Rt, "SafeNode");
        PyType unsafeNode = PyType.Define<PointerNode>(Rt, "PointerNode");
        Assert.That(safe.RefOffsets, Is.EqualTo(unsafeNode.RefOffsets));
        Assert.That(safe.RefOffsets, Is.EqualTo(new long[] { 24, 32 }));
        Assert.That(safe.BasicSize, Is.EqualTo(unsafeNode.BasicSize));
    }

    [Test]
    public void ACycleBuiltThroughAsRefAndAssign_IsCollected()
    {
        PyType node = PyType.Define<SafeNode>(Rt, "SafeNode");
        using (PyOwned a = node.New(), b = node.New(), list = PyList.New(Rt))
        {
            a.AsRef<SafeNode>().Value = 42;
            PyObjectRef.Assign(ref a.AsRef<SafeNode>().Children, list);
            PyList.Append(list, b);
            PyObjectRef.Assign(ref b.AsRef<SafeNode>().Parent, a);     // b -> a -> list -> b
            Assert.That(a.AsRef<SafeNode>().Value, Is.EqualTo(42));
            Assert.That(a.AsRef<SafeNode>().Children, Is.EqualTo(list.Ref));
            Assert.That(list.RefCount, Is.EqualTo(2), "the field took its own reference");
            Assert.That(a.RefCount, Is.EqualTo(2));
        }
        Assert.That(Rt.Collect(), Is.EqualTo(3), "the two nodes and the list");
    }

    [Test]
    public void Assign_ReleasesTheOldValue_AndClearEmptiesTheField()
    {
        PyType node = PyType.Define<SafeNode>(Rt, "SafeNode");
        using PyOwned n = node.New(), first = PyList.New(Rt), second = PyList.New(Rt);
        PyObjectRef.Assign(ref n.AsRef<SafeNode>().Parent, first);
        Assert.That(first.RefCount, Is.EqualTo(2));
        PyObjectRef.Assign(ref n.AsRef<SafeNode>().Parent, second);
        Assert.That((first.RefCount, second.RefCount), Is.EqualTo((1L, 2L)), "the old value was released");
        PyObjectRef.Assign(ref n.AsRef<SafeNode>().Parent, n.AsRef<SafeNode>().Parent);
        Assert.That(second.RefCount, Is.EqualTo(2), "assigning a field its own value keeps it");
        PyObjectRef.Clear(ref n.AsRef<SafeNode>().Parent);
        Assert.That(n.AsRef<SafeNode>().Parent.IsNull, Is.True);
        Assert.That(second.RefCount, Is.EqualTo(1));
    }

    [Test]
    public void AsRefOfNull_Throws_AndOfADisposedOwner_Too()
    {
        Assert.Throws<NullReferenceException>(() => PyObjectRef.Null.AsRef<SafeNode>());
        PyType node = PyType.Define<SafeNode>(Rt, "SafeNode");
        PyOwned n = node.New();
        n.Dispose();
        Assert.Throws<ObjectDisposedException>(() => n.AsRef<SafeNode>());
    }

    private struct RefOnALong
    {
        public PaObject Header;
        [PyRef] public long Number;
    }

    [Test]
    public void APyRefOnAnotherType_IsRefused_NamingBothAllowedTypes()
    {
        var e = Assert.Throws<ArgumentException>(() => PyType.Define<RefOnALong>(Rt, "Bad"));
        Assert.That(e!.Message, Does.Contain("not a PaObject* or a PyObjectRef"));
    }
}
