using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NUnit.Framework;

namespace PyAlloc.Tests.Support;

/// <summary>The article's Node: a value, a parent back-reference and a list of children.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Node
{
    public PaObject Header;
    public long Value;
    [PyRef] public PaObject* Parent;
    [PyRef] public PaObject* Children;
}

/// <summary>An object with one owned reference: <c>self.ref = other</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Holder
{
    public PaObject Header;
    [PyRef] public PaObject* Ref;
}

/// <summary>What the C# callbacks below saw, in order: (event, object address).</summary>
internal static unsafe class Recorder
{
    public static readonly List<(string What, nint Object)> Events = [];

    /// <summary>New references the "resurrect" finaliser stored; released by the test.</summary>
    public static readonly List<nint> Resurrected = [];

    /// <summary>For the finaliser that allocates: the runtime to allocate in, and how many lists per call.</summary>
    public static PaRuntime* AllocateIn;
    public static int AllocationsPerFinalizer;

    /// <summary>A slot the "read slot" finaliser reports on (for the pa_setref / pa_clear order).</summary>
    public static PaObject** WatchedSlot;

    public static void Reset()
    {
        Events.Clear();
        Resurrected.Clear();
        AllocateIn = null;
        AllocationsPerFinalizer = 0;
        WatchedSlot = null;
    }

    public static int Count(string what, PyObjectRef o) => Events.Count(e => e.What == what && e.Object == o.Address);

    public static int Count(string what) => Events.Count(e => e.What == what);

    public static delegate* unmanaged[Cdecl]<PaObject*, void> FinalizeRecord => &OnFinalize;
    public static delegate* unmanaged[Cdecl]<PaObject*, void> FinalizeResurrect => &OnFinalizeResurrect;
    public static delegate* unmanaged[Cdecl]<PaObject*, void> FinalizeAllocate => &OnFinalizeAllocate;
    public static delegate* unmanaged[Cdecl]<PaObject*, void> FinalizeReadSlot => &OnFinalizeReadSlot;
    public static delegate* unmanaged[Cdecl]<PaObject*, void> LegacyDelRecord => &OnLegacyDel;
    public static delegate* unmanaged[Cdecl]<PaObject*, void> DeallocRecord => &OnDealloc;
    public static delegate* unmanaged[Cdecl]<PaObject*, int> ClearRecord => &OnClear;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnFinalize(PaObject* o) => Events.Add(("finalize", (nint)o));

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnFinalizeResurrect(PaObject* o)
    {
        Events.Add(("finalize", (nint)o));
        NativeMethods.pa_incref(o); // a new reference, kept: the object lives on
        Resurrected.Add((nint)o);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnFinalizeAllocate(PaObject* o)
    {
        Events.Add(("finalize", (nint)o));
        for (int i = 0; i < AllocationsPerFinalizer; i++)
            NativeMethods.pa_decref(NativeMethods.pa_list_new(AllocateIn));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnFinalizeReadSlot(PaObject* o) => Events.Add(("slot", (nint)(WatchedSlot == null ? null : *WatchedSlot)));

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLegacyDel(PaObject* o) => Events.Add(("legacy_del", (nint)o));

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnDealloc(PaObject* o) => Events.Add(("dealloc", (nint)o));

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnClear(PaObject* o)
    {
        Events.Add(("clear", (nint)o));
        return 0;
    }
}

/// <summary>
/// A fresh <see cref="PyRuntime"/> per test (disposed after it), the thread's last error cleared and
/// the <see cref="Recorder"/> reset; helpers to build the article's objects.
/// </summary>
public abstract unsafe class RuntimeFixture
{
    protected PyRuntime Rt { get; private set; } = null!;

    [SetUp]
    public void CreateRuntime()
    {
        PyMemory.ClearError();
        Recorder.Reset();
        Rt = new PyRuntime();
    }

    [TearDown]
    public void DisposeRuntime()
    {
        Rt.Dispose();
        Recorder.Reset();
    }

    /// <summary>A <see cref="Holder"/> type; GC, with the given callbacks.</summary>
    private protected PyType HolderType(string name = "Holder",
                                delegate* unmanaged[Cdecl]<PaObject*, void> finalize = null,
                                delegate* unmanaged[Cdecl]<PaObject*, void> legacyDel = null,
                                delegate* unmanaged[Cdecl]<PaObject*, void> dealloc = null) =>
        PyTypeBuilder.For<Holder>(name).WithFlags(PyTypeFlags.HaveGc)
            .WithFinalize(finalize).WithLegacyDel(legacyDel).WithDealloc(dealloc).Build(Rt);

    /// <summary>a.ref = b (a takes its own reference).</summary>
    protected static void SetRef(PyObjectRef a, PyObjectRef b) => PyObjectRef.Assign(&a.As<Holder>()->Ref, b);

    /// <summary>Two objects of <paramref name="type"/> referring to each other, the caller's references already dropped.</summary>
    protected static (PyObjectRef A, PyObjectRef B) UnreachableCycle(PyType type)
    {
        using PyOwned a = type.New();
        using PyOwned b = type.New();
        SetRef(a, b);
        SetRef(b, a);
        return (a.Ref, b.Ref);
    }

    /// <summary>True while the object behind <paramref name="weakref"/> is alive.</summary>
    protected static bool IsAlive(PyOwned weakref)
    {
        using PyOwned? target = PyWeakRef.TryGet(weakref);
        return target != null;
    }

    /// <summary>The number of tracked objects in all generations.</summary>
    protected long TrackedObjects()
    {
        using PyRefArray all = Rt.GetObjects();
        return all.Count;
    }
}
