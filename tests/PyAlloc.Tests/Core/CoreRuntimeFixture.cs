using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;
using CoreObject = PyAlloc.Core.Abi.PaObject;
using CoreTypeSpec = PyAlloc.Core.Abi.PaTypeSpec;

namespace PyAlloc.Tests.Core;

/// <summary>An object with one reference field at offset 16, for the in-process tests.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CoreLink
{
    public CoreObject Header;
    public CoreObject* Next;
}

/// <summary>
/// A runtime made in-process with <see cref="Runtime.Create"/> (the core driven directly, no C ABI),
/// freed after each test; helpers to make lists and user types.
/// </summary>
public abstract unsafe class CoreRuntimeFixture
{
    private protected Runtime* Rt;

    [SetUp]
    public void CreateRuntime()
    {
        Errors.Clear();
        Rt = Runtime.Create();
        Assert.That((long)Rt, Is.Not.Zero, Errors.LastErrorString);
    }

    [TearDown]
    public void FreeRuntime()
    {
        if (Rt != null)
            Runtime.Free(Rt);
        Rt = null;
    }

    private protected CoreObject* NewList()
    {
        CoreObject* o = Lifecycle.New(Rt->ListType, 0, "test");
        Assert.That((long)o, Is.Not.Zero, Errors.LastErrorString);
        return o;
    }

    private protected static void Append(CoreObject* list, CoreObject* item) =>
        Assert.That(ListObject.Append(list, item), Is.Zero, Errors.LastErrorString);

    /// <summary>A GC type laid out as <see cref="CoreLink"/> (ref_offsets {16}), with an optional dealloc.</summary>
    private protected TypeObject* LinkType(delegate* unmanaged<CoreObject*, void> dealloc = null)
    {
        nuint* offsets = stackalloc nuint[2] { (nuint)sizeof(CoreObject), 0 };
        byte* name = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("Link"u8));
        CoreTypeSpec spec = new()
        {
            Name = name,
            Basicsize = (nuint)sizeof(CoreLink),
            Flags = TypeObject.FlagHaveGc,
            Dealloc = (delegate* unmanaged[Cdecl]<CoreObject*, void>)dealloc,
            RefOffsets = offsets,
        };
        TypeObject* t = TypeObject.Create(Rt, &spec, TypeKind.User);
        Assert.That((long)t, Is.Not.Zero, Errors.LastErrorString);
        return t;
    }

    private protected GcHead* Generation(int i) => GcState.GenHead(&Rt->Gc, i);
}
