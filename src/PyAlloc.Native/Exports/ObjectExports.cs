using System;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;
using PyAlloc.Core.Weakref;
using System.Runtime.InteropServices;

namespace PyAlloc.Native.Exports;

/// <summary>Sections 4 and 5 of pyalloc.h: runtimes, types, objects.</summary>
internal static unsafe class ObjectExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_new")]
    public static Runtime* RuntimeNew()
    {
        try { return Runtime.Create(); }
        catch (Exception e) { Errors.SetInternal("pa_runtime_new", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_runtime_free")]
    public static void RuntimeFree(Runtime* rt)
    {
        if (rt == null)
            return;
        try { Runtime.Free(rt); }
        catch (Exception e) { Errors.SetInternal("pa_runtime_free", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_type_new")]
    public static TypeObject* TypeNew(Runtime* rt, TypeSpec* spec)
    {
        if (rt == null)
            return (TypeObject*)Errors.Null("pa_type_new: rt is NULL");
        try { return TypeObject.Create(rt, spec, TypeKind.User); }
        catch (Exception e) { Errors.SetInternal("pa_type_new", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_type_name")]
    public static byte* TypeName(TypeObject* t) =>
        t != null ? t->Name : (byte*)Errors.Null("pa_type_name: t is NULL");

    /// <summary>pa_object_new(_var)(_at) through native/entry.</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__object_new")]
    public static PaObject* ObjectNew(TypeObject* t, nuint nitems, int variable, AllocationSite* site)
    {
        string caller = variable != 0 ? "pa_object_new_var" : "pa_object_new";
        if (t == null)
            return (PaObject*)Errors.Null($"{caller}: t is NULL");
        if (variable != 0 && !t->IsVariableSized)
            return (PaObject*)Errors.Null($"{caller}: type '{Lifecycle.NameOf(t)}' has itemsize 0");
        try { return Traced.NewObject(t, nitems, caller, site); }
        catch (Exception e) { Errors.SetInternal(caller, e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_object_runtime")]
    public static Runtime* ObjectRuntime(PaObject* o) =>
        o != null ? o->Type->Runtime : (Runtime*)Errors.Null("pa_object_runtime: o is NULL");

    [UnmanagedCallersOnly(EntryPoint = "pa_object_make_immortal")]
    public static void MakeImmortal(PaObject* o)
    {
        if (o == null)
            Errors.Set("pa_object_make_immortal: o is NULL");
        else
            o->RefCnt = RefCount.Immortal;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__dealloc")]
    public static void DeallocAtZero(PaObject* o)
    {
        try { Lifecycle.OnZero(o); }
        catch (Exception e) { Errors.SetInternal("pa_decref", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_count_objects_by_type")]
    public static nuint CountObjectsByType(Runtime* rt, TypeCount* output, nuint cap)
    {
        if (rt == null)
        {
            Errors.Set("pa_count_objects_by_type: rt is NULL");
            return nuint.MaxValue;
        }
        if (output == null && cap != 0)
        {
            Errors.Set("pa_count_objects_by_type: out is NULL but cap is not 0");
            return nuint.MaxValue;
        }
        try { return Census.CountByType(rt, output, cap); }
        catch (Exception e) { Errors.SetInternal("pa_count_objects_by_type", e); return nuint.MaxValue; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa__refcnt_error")]
    public static void RefcntError(PaObject* o) => Lifecycle.NegativeRefcount(o);
}
