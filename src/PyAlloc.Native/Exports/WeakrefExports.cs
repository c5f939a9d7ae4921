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
        if (!Validation.CheckObject(target, "pa_weakref_new", "target"))
            return null;
        if (target->RefCnt == 0)
            return (PaObject*)Errors.Null($"pa_weakref_new: target {Errors.Hex(target)} is dying (its count is 0): " +
                                          "a weak reference to it would outlive it");
        try { return WeakrefObject.New(target, (delegate* unmanaged<PaObject*, void*, void>)callback, user); }
        catch (Exception e) { Errors.SetInternal("pa_weakref_new", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_get")]
    public static PaObject* WeakrefGet(PaObject* wr)
    {
        if (!Validation.CheckObject(wr, "pa_weakref_get", "wr"))
            return null;
        if (!WeakrefObject.Check(wr))
            return (PaObject*)Errors.Null($"pa_weakref_get: expected a weakref, got a '{Lifecycle.NameOf(wr->Type)}'");
        return WeakrefObject.Get(wr);
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_count")]
    public static nuint WeakrefCount(PaObject* target)
    {
        if (Validation.CheckObject(target, "pa_weakref_count", "target"))
            return WeakrefObject.Count(target);
        return nuint.MaxValue;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_check")]
    public static int WeakrefCheck(PaObject* o) => Validation.CheckObject(o, "pa_weakref_check") && WeakrefObject.Check(o) ? 1 : 0;
}
