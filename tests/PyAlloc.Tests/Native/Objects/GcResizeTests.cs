using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// <c>pa_object_gc_resize</c> (CPython's <c>PyObject_GC_Resize</c>) through <see cref="PyOwned.GcResize"/> and the raw
/// binding, mirroring tests/c/test_resize.c: contents kept up to the smaller size, new items zeroed, <c>ob_size</c>
/// set, the object moved when it outgrows its block (the owner follows it), every refusal an exception with the
/// library's text and the object unchanged, the tracemalloc trace following the object.
/// </summary>
/// <remarks>The debug hooks' side (a resized object is a fresh debug block; a damaged one is reported and kept) is in
/// <see cref="DebugHooksTests"/>, in a child process with <c>PYALLOC_MALLOC=debug</c>.</remarks>
[TestFixture]
public sealed unsafe class GcResizeTests : RuntimeFixture
{
    /// <summary>A variable-sized object: the var header, then 8-byte items.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Vec
    {
        public PaVarObject Header;
    }

    /// <summary>Bytes of an object of n 8-byte items, its GC head included (what tracemalloc counts).</summary>
    private static long ObjectBytes(long n) => 16 + Unsafe.SizeOf<PaVarObject>() + n * 8;

    private PyType VecType() => PyTypeBuilder.For<Vec>("vec").WithItemSize(8).Build(Rt);

    private PyType TupleType() => PyTypeBuilder.For<Vec>("tuple").WithFlags(PyTypeFlags.HaveGc).WithReferenceItems().Build(Rt);

    private static long* Items(PyOwned o) => (long*)(o.As<Vec>() + 1);

    private static long ObSize(PyOwned o) => (long)o.As<Vec>()->Header.ObSize;

    /// <summary>A vec of n items 1, 2, ..., n.</summary>
    private static PyOwned NewVec(PyType t, long n)
    {
        PyOwned o = t.NewVar(n);
        for (long i = 0; i < n; i++)
            Items(o)[i] = i + 1;
        return o;
    }

    /// <summary>Items 0 .. kept-1 are 1 .. kept, items kept .. n-1 are 0.</summary>
    private static void AssertItems(PyOwned o, long kept, long n)
    {
        long[] expected = Enumerable.Range(0, (int)n).Select(i => i < kept ? i + 1L : 0L).ToArray();
        long[] actual = Enumerable.Range(0, (int)n).Select(i => Items(o)[i]).ToArray();
        Assert.That(actual, Is.EqualTo(expected));
    }

    private static string Refusal(PyOwned o, long n) => Assert.Throws<PyAllocException>(() => o.GcResize(n))!.Message;

    [Test]
    public void GcResize_Grows_KeepingTheItems_ZeroingTheNewOnes_AndTheOwnerFollowsTheMove()
    {
        using PyOwned o = NewVec(VecType(), 3);
        PaObject* before = o.Pointer;
        o.GcResize(100);
        Assert.That(o.Pointer != before, Is.True, "64 bytes to 840: the pool block cannot hold it");
        Assert.That((ObSize(o), o.RefCount, o.TypeName), Is.EqualTo((100L, 1L, "vec")));
        AssertItems(o, 3, 100);
        PyMemory.ClearError();
        Assert.That(NativeMethods.pa_object_runtime(before) == null, Is.True, "the old address is no object any more");
        Assert.That(PyMemory.LastError, Does.Contain("is not a live object"));
    }

    [Test]
    public void GcResize_Shrinks_KeepingThePrefix_AndItemsThatComeBackAreZero()
    {
        using PyOwned o = NewVec(VecType(), 50);
        o.GcResize(40);
        Assert.That(ObSize(o), Is.EqualTo(40));
        AssertItems(o, 40, 40);
        o.GcResize(0);
        Assert.That(ObSize(o), Is.EqualTo(0));
        o.GcResize(50);
        AssertItems(o, 0, 50);
    }

    [Test]
    public void GcResize_OfATrackedObject_IsRefusedAsCPythonAsserts_AndWorksOnceUntracked()
    {
        PyType tuple = TupleType();
        PyOwned t = tuple.NewVar(2);
        using PyOwned a = PyList.New(Rt);
        PyObjectRef.Assign(&((PaObject**)(t.As<Vec>() + 1))[0], a);
        Assert.That(t.Ref.IsTracked, Is.True);

        Assert.That(Refusal(t, 10), Does.StartWith("pa_object_gc_resize: object 0x").And.Contain("of type 'tuple' is tracked by the collector: untrack it first (pa_gc_untrack)"));
        Assert.That(ObSize(t), Is.EqualTo(2));

        t.Ref.Untrack();
        t.GcResize(10);
        Assert.That(t.Ref.IsTracked, Is.False);
        PaObject** items = (PaObject**)(t.As<Vec>() + 1);
        Assert.That(items[0] == a.Pointer, Is.True);
        Assert.That(Enumerable.Range(1, 9).All(i => items[i] == null), Is.True);
        t.Ref.Track();
        PyList.Append(a, t);           // t -> a -> t: a cycle through the resized tuple
        t.Dispose();
        Assert.That(a.RefCount, Is.EqualTo(2));
        Assert.That(Rt.Collect(), Is.Zero, "a keeps the cycle alive");
        Assert.That(PyList.Count(a), Is.EqualTo(1));
    }

    [Test]
    public void GcResize_IsRefused_ForASecondReference_AnImmortal_AWeakReference_AndAFixedSizeType()
    {
        PyType vec = VecType();
        using PyOwned o = NewVec(vec, 3);
        using (PyOwned second = o.NewReference())
        {
            Assert.That(Refusal(o, 100), Does.Contain("of type 'vec' has 2 references: resizing may move it"));
            Assert.That((ObSize(o), o.RefCount), Is.EqualTo((3L, 2L)));
            AssertItems(o, 3, 3);
        }
        using (PyOwned weak = PyWeakRef.New(o))
            Assert.That(Refusal(o, 100), Does.Contain("has weak references"));
        o.GcResize(4);
        AssertItems(o, 3, 4);

        PyOwned immortal = NewVec(vec, 3);
        immortal.Ref.MakeImmortal();
        Assert.That(Refusal(immortal, 100), Does.Contain("is immortal"));

        using PyOwned holder = HolderType().New();
        holder.Ref.Untrack();
        Assert.That(Refusal(holder, 1), Does.Contain("of type 'Holder' is not variable-sized (its type's itemsize is 0)"));
    }

    [Test]
    public void GcResize_IsRefused_ForAShrinkOverReferenceItems_AndSizesThatOverflow()
    {
        using PyOwned t = TupleType().NewVar(5);
        t.Ref.Untrack();
        using PyOwned a = PyList.New(Rt);
        PyObjectRef.Assign(&((PaObject**)(t.As<Vec>() + 1))[3], a);
        Assert.That(Refusal(t, 2), Does.Contain("still holds a reference in item 3"));
        Assert.That(a.RefCount, Is.EqualTo(2));

        using PyOwned o = NewVec(VecType(), 3);
        Assert.That(Refusal(o, long.MaxValue), Does.StartWith($"pa_object_gc_resize: {long.MaxValue} items of 8 bytes overflow the object size"));
        Assert.That(Refusal(o, int.MaxValue / 8), Does.Contain("overflow the object size"), "over 2 GiB, as NewVar");
        Assert.Throws<ArgumentOutOfRangeException>(() => o.GcResize(-1));
        AssertItems(o, 3, 3);
    }

    [Test]
    public void GcResize_OfADisposedOwner_Throws_AndTheRawCallRefusesNull()
    {
        PyOwned o = NewVec(VecType(), 3);
        o.Dispose();
        Assert.Throws<ObjectDisposedException>(() => o.GcResize(1));
        PyMemory.ClearError();
        Assert.That(NativeMethods.pa_object_gc_resize(null, 1) == null, Is.True);
        Assert.That(PyMemory.LastError, Is.EqualTo("pa_object_gc_resize: o is NULL"));
        Assert.That(NativeMethods.pa_object_gc_resize_at(null, 1, null, 0) == null, Is.True);
    }

    [Test]
    public void GcResize_WhileTracing_MovesTheTraceWithTheNewSizeToTheCallersLine()
    {
        using PyOwned o = NewVec(VecType(), 1);
        Tracemalloc.Start(1);
        try
        {
            long before = Tracemalloc.TracedMemory.Current;
            int line = Line() + 1;
            o.GcResize(1000);
            Assert.That(Tracemalloc.TracedMemory.Current - before, Is.EqualTo(ObjectBytes(1000)),
                        "the object was not traced before: now it is, with its new size");
            var frame = Tracemalloc.GetTraceback(o.Ref).Single();
            Assert.That((System.IO.Path.GetFileName(frame.Filename), frame.Lineno), Is.EqualTo(("GcResizeTests.cs", line)));

            using (PyOwned second = o.NewReference())
                Refusal(o, 2);
            Assert.That(Tracemalloc.GetTraceback(o.Ref).Single().Lineno, Is.EqualTo(line), "a refused resize keeps the trace");

            o.GcResize(2);
            Assert.That(Tracemalloc.TracedMemory.Current - before, Is.EqualTo(ObjectBytes(2)));
        }
        finally
        {
            Tracemalloc.Stop();
        }
    }

    private static int Line([CallerLineNumber] int line = 0) => line;
}
