using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Gc;
using PyAlloc.Core.Objects;

namespace PyAlloc.Native.Exports;

/// <summary>Section 7 of pyalloc.h: the cycle collector (the gc module).</summary>
/// <remarks>
/// Each export checks its arguments (<see cref="Validation"/>), calls one function of
/// <see cref="GcModule"/>, and maps an exception through <see cref="Boundary"/>.
/// </remarks>
internal static unsafe class GcExports
{
    private static readonly nuint SizeError = nuint.MaxValue;

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_collect")]
    public static nint Collect(Runtime* rt, int generation)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_collect"))
            return -1;
        try { return GcModule.Collect(rt, generation); }
        catch (Exception e) { return Boundary.Fail("pa_gc_collect", e, (nint)(-1)); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_enable")]
    public static void Enable(Runtime* rt)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_enable"))
            return;
        try { GcModule.SetEnabled(rt, true); }
        catch (Exception e) { Boundary.Fail("pa_gc_enable", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_disable")]
    public static void Disable(Runtime* rt)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_disable"))
            return;
        try { GcModule.SetEnabled(rt, false); }
        catch (Exception e) { Boundary.Fail("pa_gc_disable", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_isenabled")]
    public static int IsEnabled(Runtime* rt)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_isenabled"))
            return -1;
        try { return GcModule.IsEnabled(rt); }
        catch (Exception e) { return Boundary.Fail("pa_gc_isenabled", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_count")]
    public static void GetCount(Runtime* rt, nint* output)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_get_count") || !Validation.CheckOut(output, "pa_gc_get_count"))
            return;
        try { GcModule.GetCount(rt, output); }
        catch (Exception e) { Boundary.Fail("pa_gc_get_count", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_threshold")]
    public static void GetThreshold(Runtime* rt, int* output)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_get_threshold") || !Validation.CheckOut(output, "pa_gc_get_threshold"))
            return;
        try { GcModule.GetThreshold(rt, output); }
        catch (Exception e) { Boundary.Fail("pa_gc_get_threshold", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_set_threshold")]
    public static void SetThreshold(Runtime* rt, int t0, int t1, int t2)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_set_threshold"))
            return;
        try { GcModule.SetThreshold(rt, t0, t1, t2); }
        catch (Exception e) { Boundary.Fail("pa_gc_set_threshold", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_stats")]
    public static int GetStats(Runtime* rt, PaGcGenerationStats* output)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_get_stats") || !Validation.CheckOut(output, "pa_gc_get_stats"))
            return -1;
        try { GcModule.GetStats(rt, output); return 0; }
        catch (Exception e) { return Boundary.Fail("pa_gc_get_stats", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_objects")]
    public static nuint GetObjects(Runtime* rt, int generation, PaObject** output, nuint cap)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_get_objects"))
            return SizeError;
        try { return GcModule.GetObjects(rt, generation, output, cap); }
        catch (Exception e) { return Boundary.Fail("pa_gc_get_objects", e, SizeError); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_referrers")]
    public static nuint GetReferrers(Runtime* rt, PaObject* target, PaObject** output, nuint cap)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_get_referrers")
            || !Validation.CheckObjectOf(target, rt, "pa_gc_get_referrers", "the object"))
            return SizeError;
        try { return GcModule.GetReferrers(rt, &target, 1, output, cap); }
        catch (Exception e) { return Boundary.Fail("pa_gc_get_referrers", e, SizeError); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_referents")]
    public static nuint GetReferents(PaObject* o, PaObject** output, nuint cap)
    {
        if (!Validation.CheckObject(o, "pa_gc_get_referents"))
            return SizeError;
        try { return GcModule.GetReferents(&o, 1, output, cap); }
        catch (Exception e) { return Boundary.Fail("pa_gc_get_referents", e, SizeError); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_referrers_n")]
    public static nuint GetReferrersN(Runtime* rt, PaObject** objs, nuint n, PaObject** output, nuint cap)
    {
        const string caller = "pa_gc_get_referrers_n";
        if (!Validation.CheckRuntime(rt, caller) || !Validation.CheckObjects(objs, n, rt, caller))
            return SizeError;
        try { return GcModule.GetReferrers(rt, objs, n, output, cap, caller); }
        catch (Exception e) { return Boundary.Fail(caller, e, SizeError); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_referents_n")]
    public static nuint GetReferentsN(PaObject** objs, nuint n, PaObject** output, nuint cap)
    {
        const string caller = "pa_gc_get_referents_n";
        if (!Validation.CheckObjects(objs, n, null, caller))
            return SizeError;
        try { return GcModule.GetReferents(objs, n, output, cap, caller); }
        catch (Exception e) { return Boundary.Fail(caller, e, SizeError); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_track")]
    public static void Track(PaObject* o)
    {
        if (!Validation.CheckObject(o, "pa_gc_track"))
            return;
        try { GcModule.Track(o); }
        catch (Exception e) { Boundary.Fail("pa_gc_track", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_untrack")]
    public static void Untrack(PaObject* o)
    {
        if (!Validation.CheckObject(o, "pa_gc_untrack"))
            return;
        try { GcModule.Untrack(o); }
        catch (Exception e) { Boundary.Fail("pa_gc_untrack", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_is_tracked")]
    public static int IsTracked(PaObject* o)
    {
        if (!Validation.CheckObject(o, "pa_gc_is_tracked"))
            return -1;
        try { return GcModule.IsTracked(o); }
        catch (Exception e) { return Boundary.Fail("pa_gc_is_tracked", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_is_finalized")]
    public static int IsFinalized(PaObject* o)
    {
        if (!Validation.CheckObject(o, "pa_gc_is_finalized"))
            return -1;
        try { return GcModule.IsFinalized(o); }
        catch (Exception e) { return Boundary.Fail("pa_gc_is_finalized", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_freeze")]
    public static void Freeze(Runtime* rt)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_freeze"))
            return;
        try { GcModule.Freeze(rt); }
        catch (Exception e) { Boundary.Fail("pa_gc_freeze", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_unfreeze")]
    public static void Unfreeze(Runtime* rt)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_unfreeze"))
            return;
        try { GcModule.Unfreeze(rt); }
        catch (Exception e) { Boundary.Fail("pa_gc_unfreeze", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_freeze_count")]
    public static nuint GetFreezeCount(Runtime* rt)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_get_freeze_count"))
            return SizeError;
        try { return GcModule.GetFreezeCount(rt); }
        catch (Exception e) { return Boundary.Fail("pa_gc_get_freeze_count", e, SizeError); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_set_debug")]
    public static void SetDebug(Runtime* rt, int flags)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_set_debug"))
            return;
        try { GcModule.SetDebug(rt, flags); }
        catch (Exception e) { Boundary.Fail("pa_gc_set_debug", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_debug")]
    public static int GetDebug(Runtime* rt)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_get_debug"))
            return -1;
        try { return GcModule.GetDebug(rt); }
        catch (Exception e) { return Boundary.Fail("pa_gc_get_debug", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_garbage")]
    public static nuint GetGarbage(Runtime* rt, PaObject** output, nuint cap)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_get_garbage"))
            return SizeError;
        try { return GcModule.GetGarbage(rt, output, cap); }
        catch (Exception e) { return Boundary.Fail("pa_gc_get_garbage", e, SizeError); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_garbage_remove_at")]
    public static int GarbageRemoveAt(Runtime* rt, nint index)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_garbage_remove_at"))
            return -1;
        try { return GcModule.RemoveGarbageAt(rt, index); }
        catch (Exception e) { return Boundary.Fail("pa_gc_garbage_remove_at", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_garbage_remove")]
    public static int GarbageRemove(Runtime* rt, PaObject* o)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_garbage_remove")
            || !Validation.CheckObjectOf(o, rt, "pa_gc_garbage_remove", "the object"))
            return -1;
        try { return GcModule.RemoveGarbage(rt, o); }
        catch (Exception e) { return Boundary.Fail("pa_gc_garbage_remove", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_clear_garbage")]
    public static void ClearGarbage(Runtime* rt)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_clear_garbage"))
            return;
        try { GcModule.ClearGarbage(rt); }
        catch (Exception e) { Boundary.Fail("pa_gc_clear_garbage", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_add_callback")]
    public static int AddCallback(Runtime* rt, void* callback, void* user)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_add_callback"))
            return -1;
        try { return GcModule.AddCallback(rt, callback, user); }
        catch (Exception e) { return Boundary.Fail("pa_gc_add_callback", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_remove_callback")]
    public static int RemoveCallback(Runtime* rt, void* callback, void* user)
    {
        if (!Validation.CheckRuntime(rt, "pa_gc_remove_callback"))
            return -1;
        try { return GcModule.RemoveCallback(rt, callback, user); }
        catch (Exception e) { return Boundary.Fail("pa_gc_remove_callback", e, -1); }
    }
}
