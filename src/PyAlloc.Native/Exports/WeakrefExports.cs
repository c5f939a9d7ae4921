using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>Section 8 of pyalloc.h: weak references, proxies, weakref.getweakrefs and weakref.finalize.</summary>
internal static unsafe class WeakrefExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_new")]
    public static PaObject* WeakrefNew(PaObject* target, void* callback, void* user)
    {
        if (!CheckLiveTarget(target, "pa_weakref_new"))
            return null;
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

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_proxy_new")]
    public static PaObject* ProxyNew(PaObject* target, void* callback, void* user)
    {
        if (!CheckLiveTarget(target, "pa_weakref_proxy_new"))
            return null;
        try { return WeakrefObject.New(target, (delegate* unmanaged<PaObject*, void*, void>)callback, user, proxy: true); }
        catch (Exception e) { Errors.SetInternal("pa_weakref_proxy_new", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_proxy_get")]
    public static PaObject* ProxyGet(PaObject* proxy)
    {
        if (!Validation.CheckObject(proxy, "pa_weakref_proxy_get", "proxy"))
            return null;
        if (!WeakrefObject.Check(proxy) || !WeakrefObject.IsProxy(proxy))
            return (PaObject*)Errors.Null($"pa_weakref_proxy_get: expected a weakproxy, got a '{Lifecycle.NameOf(proxy->Type)}'");
        return WeakrefObject.ProxyGet(proxy);
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_proxy_check")]
    public static int ProxyCheck(PaObject* o) =>
        Validation.CheckObject(o, "pa_weakref_proxy_check") && WeakrefObject.Check(o) && WeakrefObject.IsProxy(o) ? 1 : 0;

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_getweakrefs")]
    public static nuint GetWeakrefs(PaObject* target, PaObject** output, nuint cap)
    {
        if (!Validation.CheckObject(target, "pa_weakref_getweakrefs", "target"))
            return nuint.MaxValue;
        if (output == null && cap != 0)
        {
            Errors.Set("pa_weakref_getweakrefs: out is NULL but cap is not 0");
            return nuint.MaxValue;
        }
        return WeakrefObject.GetWeakrefs(target, output, cap);
    }

    // ------------------------------------------------------------ weakref.finalize

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_register")]
    public static ulong FinalizeRegister(PaObject* target, void* callback, void* user)
    {
        if (!CheckLiveTarget(target, "pa_finalize_register"))
            return 0;
        if (callback == null)
        {
            Errors.Set("pa_finalize_register: cb is NULL");
            return 0;
        }
        try { return FinalizeRegistry.Register(target, (delegate* unmanaged<void*, void>)callback, user); }
        catch (Exception e) { Errors.SetInternal("pa_finalize_register", e); return 0; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_alive")]
    public static int FinalizeAlive(Runtime* rt, ulong handle) =>
        !Validation.CheckRuntime(rt, "pa_finalize_alive") ? -1 : FinalizeRegistry.Find(rt, (nuint)handle) != null ? 1 : 0;

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_call")]
    public static int FinalizeCall(Runtime* rt, ulong handle)
    {
        if (!Validation.CheckRuntime(rt, "pa_finalize_call"))
            return -1;
        try { return FinalizeRegistry.Call(rt, (nuint)handle) ? 1 : 0; }
        catch (Exception e) { Errors.SetInternal("pa_finalize_call", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_peek")]
    public static int FinalizePeek(Runtime* rt, ulong handle, PaObject** target, void** callback, void** user) =>
        Peek(rt, handle, target, callback, user, detach: false, "pa_finalize_peek");

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_detach")]
    public static int FinalizeDetach(Runtime* rt, ulong handle, PaObject** target, void** callback, void** user) =>
        Peek(rt, handle, target, callback, user, detach: true, "pa_finalize_detach");

    private static int Peek(Runtime* rt, ulong handle, PaObject** target, void** callback, void** user, bool detach,
                            string caller)
    {
        if (!Validation.CheckRuntime(rt, caller))
            return -1;
        try
        {
            PaObject* o = FinalizeRegistry.Peek(rt, (nuint)handle, detach, out FinalizeEntry entry);
            if (o == null)
                return 0;
            if (target != null)
                *target = o;
            else
                RefCount.Decref(o);
            if (callback != null)
                *callback = entry.Callback;
            if (user != null)
                *user = entry.User;
            return 1;
        }
        catch (Exception e) { Errors.SetInternal(caller, e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_get_atexit")]
    public static int FinalizeGetAtexit(Runtime* rt, ulong handle)
    {
        if (!Validation.CheckRuntime(rt, "pa_finalize_get_atexit"))
            return -1;
        FinalizeEntry* entry = FinalizeRegistry.Find(rt, (nuint)handle);
        return entry != null && entry->AtExit ? 1 : 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_set_atexit")]
    public static int FinalizeSetAtexit(Runtime* rt, ulong handle, int atexit)
    {
        if (!Validation.CheckRuntime(rt, "pa_finalize_set_atexit"))
            return -1;
        FinalizeEntry* entry = FinalizeRegistry.Find(rt, (nuint)handle);
        if (entry == null)
            return 0;
        entry->AtExit = atexit != 0;
        return 1;
    }

    /* A live target whose count is not 0 (a weakref to a dying object would outlive it). */
    private static bool CheckLiveTarget(PaObject* target, string caller)
    {
        if (!Validation.CheckObject(target, caller, "target"))
            return false;
        if (target->RefCnt != 0)
            return true;
        Errors.Set($"{caller}: target {Errors.Hex(target)} is dying (its count is 0): a weak reference to it would outlive it");
        return false;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_check")]
    public static int WeakrefCheck(PaObject* o) => Validation.CheckObject(o, "pa_weakref_check") && WeakrefObject.Check(o) ? 1 : 0;
}
