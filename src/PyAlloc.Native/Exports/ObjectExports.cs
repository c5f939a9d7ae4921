using System;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Api;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;
using System.Runtime.InteropServices;

namespace PyAlloc.Native.Exports;

/// <summary>Sections 4 and 5 of pyalloc.h: runtimes, types, objects.</summary>
internal static unsafe class ObjectExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_new")]
    public static Runtime* RuntimeNew()
    {
        try { return Runtime.Create(); }
        catch (Exception e) { return (Runtime*)Boundary.Null("pa_runtime_new", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_free")]
    public static void RuntimeFree(Runtime* rt)
    {
        if (rt == null || !Validation.CheckRuntime(rt, "pa_runtime_free"))
            return;
        try { Runtime.Free(rt); }
        catch (Exception e) { Boundary.Fail("pa_runtime_free", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_type_new")]
    public static TypeObject* TypeNew(Runtime* rt, PaTypeSpec* spec)
    {
        if (!Validation.CheckRuntime(rt, "pa_type_new"))
            return null;
        try { return TypeObject.Create(rt, spec, TypeKind.User); }
        catch (Exception e) { return (TypeObject*)Boundary.Null("pa_type_new", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_type_name")]
    public static byte* TypeName(TypeObject* t) =>
        Validation.CheckType(t, "pa_type_name") ? t->Name : null;

    /// <summary>pa_object_new(_var)(_at) through native/entry.</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__object_new")]
    public static PaObject* ObjectNew(TypeObject* t, nuint nitems, int variable, AllocationSite* site)
    {
        string caller = variable != 0 ? "pa_object_new_var" : "pa_object_new";
        if (!Validation.CheckType(t, caller))
            return null;
        try { return Traced.NewObject(t, nitems, variable != 0, site); }
        catch (Exception e) { return (PaObject*)Boundary.Null(caller, e); }
    }

    /// <summary>pa_object_gc_resize(_at) through native/entry.</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__object_gc_resize")]
    public static PaObject* ObjectGcResize(PaObject* o, nuint nitems, AllocationSite* site)
    {
        if (!Validation.CheckObject(o, "pa_object_gc_resize", "o"))
            return null;
        try { return Traced.ResizeObject(o, nitems, "pa_object_gc_resize", site); }
        catch (Exception e) { return (PaObject*)Boundary.Null("pa_object_gc_resize", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_object_runtime")]
    public static Runtime* ObjectRuntime(PaObject* o) =>
        Validation.CheckObject(o, "pa_object_runtime", "o") ? Validation.RuntimeOf(o) : null;

    [UnmanagedCallersOnly(EntryPoint = "pa_object_make_immortal")]
    public static void MakeImmortal(PaObject* o)
    {
        if (!Validation.CheckObject(o, "pa_object_make_immortal", "o"))
            return;
        try { Lifecycle.MakeImmortal(o); }
        catch (Exception e) { Boundary.Fail("pa_object_make_immortal", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__dealloc")]
    public static void DeallocAtZero(PaObject* o)
    {
        if (!Validation.CheckObject(o, "pa_decref (pa__dealloc)", "o"))
            return;
        try { Lifecycle.Dealloc(o); }
        catch (Exception e) { Boundary.Fail("pa_decref", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_count_objects_by_type")]
    public static nuint CountObjectsByType(Runtime* rt, PaTypeCount* output, nuint cap)
    {
        if (!Validation.CheckRuntime(rt, "pa_count_objects_by_type")
            || !Validation.CheckBuffer(output, cap, "pa_count_objects_by_type"))
            return nuint.MaxValue;
        try { return Census.CountByType(rt, output, cap); }
        catch (Exception e) { return Boundary.Fail("pa_count_objects_by_type", e, nuint.MaxValue); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__refcnt_error")]
    public static void RefcntError(PaObject* o)
    {
        if (!Validation.CheckObject(o, "pa__refcnt_error", "o"))
            return;
        try { Lifecycle.NegativeRefcount(o); }
        catch (Exception e) { Boundary.Fail("pa__refcnt_error", e); }
    }
}
