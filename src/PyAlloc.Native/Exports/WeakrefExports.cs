using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;
using PyAlloc.Core.Weakref;

namespace PyAlloc.Native.Exports;

/// <summary>Section 8 of pyalloc.h: weak references.</summary>
internal static unsafe class WeakrefExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_new")]
    public static PaObject* WeakrefNew(PaObject* target, void* callback, void* user)
    {
        if (target == null)
            return (PaObject*)Errors.Null("pa_weakref_new: target is NULL");
        try { return WeakrefObject.New(target, (delegate* unmanaged<PaObject*, void*, void>)callback, user); }
        catch (Exception e) { Errors.SetInternal("pa_weakref_new", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_get")]
    public static PaObject* WeakrefGet(PaObject* wr)
    {
        if (wr == null)
            return (PaObject*)Errors.Null("pa_weakref_get: wr is NULL");
        if (!WeakrefObject.Check(wr))
            return (PaObject*)Errors.Null($"pa_weakref_get: expected a weakref, got a '{Lifecycle.NameOf(wr->Type)}'");
        return WeakrefObject.Get(wr);
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_count")]
    public static nuint WeakrefCount(PaObject* target)
    {
        if (target != null)
            return WeakrefObject.Count(target);
        Errors.Set("pa_weakref_count: target is NULL");
        return nuint.MaxValue;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_check")]
    public static int WeakrefCheck(PaObject* o) => WeakrefObject.Check(o) ? 1 : 0;
}
