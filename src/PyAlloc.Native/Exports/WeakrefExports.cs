using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>Section 8 of pyalloc.h: weak references, proxies, weakref.getweakrefs and weakref.finalize.</summary>
/// <remarks>
/// Each export checks its arguments (<see cref="Validation"/>), calls one function of
/// <see cref="WeakrefObject"/> or <see cref="FinalizeRegistry"/> (which check the rest of their
/// contract: a dying target, a NULL callback), and maps an exception through <see cref="Boundary"/>.
/// </remarks>
internal static unsafe class WeakrefExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_new")]
    public static PaObject* WeakrefNew(PaObject* target, void* callback, void* user)
    {
        if (!Validation.CheckObject(target, "pa_weakref_new", "target"))
            return null;
        try { return WeakrefObject.New(target, (delegate* unmanaged<PaObject*, void*, void>)callback, user); }
        catch (Exception e) { return (PaObject*)Boundary.Null("pa_weakref_new", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_get")]
    public static PaObject* WeakrefGet(PaObject* wr)
    {
        if (!Validation.CheckObjectKind(wr, &WeakrefObject.Check, "weakref", "pa_weakref_get", "wr"))
            return null;
        try { return WeakrefObject.Get(wr); }
        catch (Exception e) { return (PaObject*)Boundary.Null("pa_weakref_get", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_count")]
    public static nuint WeakrefCount(PaObject* target)
    {
        if (!Validation.CheckObject(target, "pa_weakref_count", "target"))
            return nuint.MaxValue;
        try { return WeakrefObject.Count(target); }
        catch (Exception e) { return Boundary.Fail("pa_weakref_count", e, nuint.MaxValue); }
    }

    /// <remarks>Cannot throw past its check: <see cref="WeakrefObject.Check"/> is a compare.</remarks>
    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_check")]
    public static int WeakrefCheck(PaObject* o) => Validation.CheckObject(o, "pa_weakref_check") && WeakrefObject.Check(o) ? 1 : 0;

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_proxy_new")]
    public static PaObject* ProxyNew(PaObject* target, void* callback, void* user)
    {
        if (!Validation.CheckObject(target, "pa_weakref_proxy_new", "target"))
            return null;
        try { return WeakrefObject.New(target, (delegate* unmanaged<PaObject*, void*, void>)callback, user, proxy: true); }
        catch (Exception e) { return (PaObject*)Boundary.Null("pa_weakref_proxy_new", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_proxy_get")]
    public static PaObject* ProxyGet(PaObject* proxy)
    {
        if (!Validation.CheckObjectKind(proxy, &WeakrefObject.IsWeakproxy, "weakproxy", "pa_weakref_proxy_get", "proxy"))
            return null;
        try { return WeakrefObject.ProxyGet(proxy); }
        catch (Exception e) { return (PaObject*)Boundary.Null("pa_weakref_proxy_get", e); }
    }

    /// <remarks>Cannot throw past its check: <see cref="WeakrefObject.IsWeakproxy"/> is two compares.</remarks>
    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_proxy_check")]
    public static int ProxyCheck(PaObject* o) =>
        Validation.CheckObject(o, "pa_weakref_proxy_check") && WeakrefObject.IsWeakproxy(o) ? 1 : 0;

    [UnmanagedCallersOnly(EntryPoint = "pa_weakref_getweakrefs")]
    public static nuint GetWeakrefs(PaObject* target, PaObject** output, nuint cap)
    {
        const string caller = "pa_weakref_getweakrefs";
        if (!Validation.CheckObject(target, caller, "target") || !Validation.CheckBuffer(output, cap, caller))
            return nuint.MaxValue;
        try { return WeakrefObject.GetWeakrefs(target, output, cap); }
        catch (Exception e) { return Boundary.Fail(caller, e, nuint.MaxValue); }
    }

    // ------------------------------------------------------------ weakref.finalize

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_register")]
    public static ulong FinalizeRegister(PaObject* target, void* callback, void* user)
    {
        if (!Validation.CheckObject(target, "pa_finalize_register", "target"))
            return 0;
        try { return FinalizeRegistry.Register(target, (delegate* unmanaged<void*, void>)callback, user); }
        catch (Exception e) { return Boundary.Fail("pa_finalize_register", e, 0ul); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_alive")]
    public static int FinalizeAlive(Runtime* rt, ulong handle)
    {
        if (!Validation.CheckRuntime(rt, "pa_finalize_alive"))
            return -1;
        try { return FinalizeRegistry.IsAlive(rt, (nuint)handle) ? 1 : 0; }
        catch (Exception e) { return Boundary.Fail("pa_finalize_alive", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_call")]
    public static int FinalizeCall(Runtime* rt, ulong handle)
    {
        if (!Validation.CheckRuntime(rt, "pa_finalize_call"))
            return -1;
        try { return FinalizeRegistry.Call(rt, (nuint)handle) ? 1 : 0; }
        catch (Exception e) { return Boundary.Fail("pa_finalize_call", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_peek")]
    public static int FinalizePeek(Runtime* rt, ulong handle, PaObject** target, void** callback, void** user)
    {
        if (!Validation.CheckRuntime(rt, "pa_finalize_peek"))
            return -1;
        try { return FinalizeRegistry.Peek(rt, (nuint)handle, detach: false, target, callback, user); }
        catch (Exception e) { return Boundary.Fail("pa_finalize_peek", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_detach")]
    public static int FinalizeDetach(Runtime* rt, ulong handle, PaObject** target, void** callback, void** user)
    {
        if (!Validation.CheckRuntime(rt, "pa_finalize_detach"))
            return -1;
        try { return FinalizeRegistry.Peek(rt, (nuint)handle, detach: true, target, callback, user); }
        catch (Exception e) { return Boundary.Fail("pa_finalize_detach", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_get_atexit")]
    public static int FinalizeGetAtexit(Runtime* rt, ulong handle)
    {
        if (!Validation.CheckRuntime(rt, "pa_finalize_get_atexit"))
            return -1;
        try { return FinalizeRegistry.GetAtExit(rt, (nuint)handle); }
        catch (Exception e) { return Boundary.Fail("pa_finalize_get_atexit", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_finalize_set_atexit")]
    public static int FinalizeSetAtexit(Runtime* rt, ulong handle, int atexit)
    {
        if (!Validation.CheckRuntime(rt, "pa_finalize_set_atexit"))
            return -1;
        try { return FinalizeRegistry.SetAtExit(rt, (nuint)handle, atexit != 0); }
        catch (Exception e) { return Boundary.Fail("pa_finalize_set_atexit", e, -1); }
    }
}
