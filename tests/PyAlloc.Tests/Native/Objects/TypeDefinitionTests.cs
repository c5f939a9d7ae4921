using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>Object types defined from .NET: layouts with [PyRef], builder checks, variable-sized objects, C# traverse/clear.</summary>
[TestFixture]
public sealed unsafe class TypeDefinitionTests : RuntimeFixture
{
    /// <summary>Five bools: 5 bytes in memory, 20 when marshalled; Ref is at 24 in memory, 40 for Marshal.OffsetOf.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct WithBools
    {
        public PaObject Header;
        public bool A, B, C, D, E;
        [PyRef] public PaObject* Ref;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct NoHeader
    {
        public long Value;
        [PyRef] public PaObject* Ref;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RefOnANumber
    {
        public PaObject Header;
        [PyRef] public long NotAPointer;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Tuple
    {
        public PaVarObject Header;
        [PyRef] public PaObject* Extra;
    }

    /// <summary>A layout the offsets cannot describe: the reference is hidden from ref_offsets, so a C# traverse visits it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Hidden
    {
        public PaObject Header;
        public PaObject* Secret; // owned, but not [PyRef]: traverse, clear and dealloc deal with it
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int TraverseHidden(PaObject* self, delegate* unmanaged[Cdecl]<PaObject*, void*, int> visit, void* arg)
    {
        PaObject* secret = ((Hidden*)self)->Secret;
        return secret != null ? visit(secret, arg) : 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ClearHidden(PaObject* self)
    {
        NativeMethods.pa_clear(&((Hidden*)self)->Secret);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void DeallocHidden(PaObject* self) => NativeMethods.pa_clear(&((Hidden*)self)->Secret);

    [Test]
    public void For_ComputesBasicSizeAndRefOffsetsFromTheLayout()
    {
        PyTypeBuilder b = PyTypeBuilder.For<Node>("Node");
        Assert.That(b.BasicSize, Is.EqualTo(Unsafe.SizeOf<Node>()));
        Assert.That(b.RefOffsets, Is.EqualTo(new long[] { (long)Marshal.OffsetOf<Node>(nameof(Node.Parent)), (long)Marshal.OffsetOf<Node>(nameof(Node.Children)) }));
        Assert.That(b.Flags, Is.EqualTo(PyTypeFlags.None));
        PyType t = b.WithFlags(PyTypeFlags.HaveGc).Build(Rt);
        Assert.That((t.Name, t.BasicSize, t.ItemSize, t.Flags), Is.EqualTo(("Node", 40L, 0L, PyTypeFlags.HaveGc)));
        Assert.That(t.ToString(), Is.EqualTo("<type 'Node'>"));
        using PyOwned o = t.New();
        Assert.That(o.TypeName, Is.EqualTo("Node"));
        Assert.That(t.IsInstance(o) && !t.IsInstance(PyObjectRef.Null), Is.True);
        Assert.That((o.As<Node>()->Value, (long)o.As<Node>()->Parent), Is.EqualTo((0L, 0L)), "objects start zeroed");
        Assert.That(o.Ref.IsTracked, Is.True);
    }

    [Test]
    public void For_RefusesLayoutsThatAreNotObjects()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => PyTypeBuilder.For<NoHeader>("x"))!.Message, Does.Contain("must start with a PaObject"));
        Assert.That(Assert.Throws<ArgumentException>(() => PyTypeBuilder.For<RefOnANumber>("x"))!.Message, Does.Contain("not a PaObject*"));
        Assert.Throws<ArgumentException>(() => new PyTypeBuilder("bad\0name"));
    }

    [Test]
    public void For_MeasuresOffsetsInMemory_NotAsTheMarshallerLaysBoolsOut()
    {
        PyTypeBuilder b = PyTypeBuilder.For<WithBools>("WithBools");
        WithBools sample = default;
        long inMemory = (byte*)&sample.Ref - (byte*)&sample;
        Assert.That(b.RefOffsets, Is.EqualTo(new[] { inMemory }));
        Assert.That(Marshal.OffsetOf<WithBools>(nameof(WithBools.Ref)).ToInt64(), Is.Not.EqualTo(inMemory), "the marshaller would have misled");

        PyType t = b.WithFlags(PyTypeFlags.HaveGc).Build(Rt);
        using PyOwned item = PyList.New(Rt);
        PyOwned o = t.New();
        o.As<WithBools>()->E = true;
        PyObjectRef.Assign(&o.As<WithBools>()->Ref, item);
        using (PyRefArray referents = o.Ref.GetReferents())
            Assert.That(referents.ToArray(), Is.EqualTo(new[] { item.Ref }));
        o.Dispose();
        Assert.That(item.RefCount, Is.EqualTo(1), "released through the measured offset");
    }

    [Test]
    public void Build_OfASpecTheLibraryRefuses_ThrowsWithItsMessage()
    {
        string Refusal(PyTypeBuilder b) => Assert.Throws<PyAllocException>(() => b.Build(Rt))!.Message;

        Assert.That(Refusal(new PyTypeBuilder("gc").WithFlags(PyTypeFlags.HaveGc)),
            Is.EqualTo("pa_type_new: a PA_TPFLAGS_HAVE_GC type needs traverse or ref_offsets"));
        Assert.That(Refusal(new PyTypeBuilder("small").WithBasicSize(8)), Does.StartWith("pa_type_new: basicsize 8 is smaller than the pa_object header (16 bytes)"));
        Assert.That(Refusal(new PyTypeBuilder("inside").WithBasicSize(32).WithRefOffsets(8)), Does.StartWith("pa_type_new: ref_offsets[0] = 8 is not an aligned pa_object * field"));
        Assert.That(Refusal(new PyTypeBuilder("outside").WithBasicSize(32).WithRefOffsets(32)), Does.StartWith("pa_type_new: ref_offsets[0] = 32"));
        Assert.That(Refusal(new PyTypeBuilder("items").WithBasicSize(24).WithItemSize(4).WithFlags(PyTypeFlags.ItemsAreRefs)),
            Is.EqualTo("pa_type_new: PA_TPFLAGS_ITEMS_ARE_REFS needs itemsize == sizeof(pa_object *)"));
        Assert.That(Refusal(new PyTypeBuilder("flags").WithFlags((PyTypeFlags)1)), Does.StartWith("pa_type_new: unknown flags 0x1"));
        Assert.That(Refusal(new PyTypeBuilder("var").WithBasicSize(16).WithItemSize(8)),
            Does.StartWith("pa_type_new: basicsize 16 is smaller than the pa_var_object header (24 bytes)"));
    }

    [Test]
    public void VariableSizedObjects_WithReferenceItems_AreTraversedClearedAndReleasedByTheLibrary()
    {
        PyType tuple = PyTypeBuilder.For<Tuple>("tuple").WithFlags(PyTypeFlags.HaveGc).WithReferenceItems().Build(Rt);
        Assert.That((tuple.ItemSize, tuple.Flags), Is.EqualTo((8L, PyTypeFlags.HaveGc | PyTypeFlags.ItemsAreRefs)));
        using PyOwned a = PyList.New(Rt);
        PyOwned c = PyList.New(Rt);
        PyOwned t = tuple.NewVar(3);
        Tuple* header = t.As<Tuple>();
        PaObject** items = (PaObject**)(header + 1);
        Assert.That((long)header->Header.ObSize, Is.EqualTo(3));
        Assert.That(Enumerable.Range(0, 3).All(i => items[i] == null), Is.True, "items start zeroed");
        PyObjectRef.Assign(&items[0], a);
        PyObjectRef.Assign(&items[2], c);
        PyObjectRef.Assign(&header->Extra, a);
        using (PyRefArray referents = t.Ref.GetReferents())
            Assert.That(referents.ToArray(), Is.EqualTo(new[] { a.Ref, a.Ref, c.Ref }), "ref_offsets first, then the items in order, nulls skipped");

        PyList.Append(c, t);  // t -> c -> t: a cycle through an item
        using PyOwned weak = PyWeakRef.New(t);
        t.Dispose();
        c.Dispose();
        Assert.That(a.RefCount, Is.EqualTo(3));
        Assert.That(Rt.Collect(), Is.EqualTo(2), "the tuple and the list");
        Assert.That(IsAlive(weak), Is.False);
        Assert.That(a.RefCount, Is.EqualTo(1), "the items and the ref field were released");
    }

    [Test]
    public void NewVar_OfAFixedSizeType_IsRefused_AndNegativeCountsNeverReachTheLibrary()
    {
        PyType fixedSize = PyType.Define<Holder>(Rt, "Fixed");
        Assert.That(Assert.Throws<PyAllocException>(() => fixedSize.NewVar(2))!.Message, Is.EqualTo("pa_object_new_var: type 'Fixed' has itemsize 0"));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixedSize.NewVar(-1));
    }

    [Test]
    public void ACSharpTraverseAndClear_LetTheCollectorSeeAndBreakReferencesTheOffsetsDoNotDescribe()
    {
        PyType hidden = new PyTypeBuilder("Hidden").WithBasicSize(Unsafe.SizeOf<Hidden>()).WithFlags(PyTypeFlags.HaveGc)
            .WithTraverse(&TraverseHidden).WithClear(&ClearHidden).WithDealloc(&DeallocHidden).Build(Rt);
        PyOwned x = hidden.New(), y = hidden.New();
        PyObjectRef.Assign(&x.As<Hidden>()->Secret, y);
        PyObjectRef.Assign(&y.As<Hidden>()->Secret, x);
        using (PyRefArray referents = x.Ref.GetReferents())
            Assert.That(referents.ToArray(), Is.EqualTo(new[] { y.Ref }), "get_referents goes through the C# traverse");
        using (PyRefArray referrers = Rt.GetReferrers(x))
            Assert.That(referrers.ToArray(), Is.EqualTo(new[] { y.Ref }));
        using PyOwned wx = PyWeakRef.New(x), wy = PyWeakRef.New(y);
        x.Dispose();
        y.Dispose();

        Assert.That(Rt.Collect(), Is.EqualTo(2), "the traverse showed the cycle, the clear broke it");
        Assert.That(IsAlive(wx) || IsAlive(wy), Is.False);
    }

    [Test]
    public void NonGcTypes_AreNotTracked_ButStillReleaseTheirReferences()
    {
        PyType plain = PyType.Define<Holder>(Rt, "Plain", PyTypeFlags.None);
        using PyOwned item = PyList.New(Rt);
        PyOwned o = plain.New();
        SetRef(o, item);
        Assert.That((o.Ref.IsTracked, Rt.GetCount().Gen0), Is.EqualTo((false, 1L)), "only the list counts");
        o.Dispose();
        Assert.That(item.RefCount, Is.EqualTo(1));
    }
}
