using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Gc;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;

namespace PyAlloc.Native.Exports;

/// <summary>Section 7 of pyalloc.h: the cycle collector (the gc module).</summary>
internal static unsafe class GcExports
{
    [UnmanagedCallersOnly(EntryPoint = "pa_gc_collect")]
    public static nint Collect(Runtime* rt, int generation)
    {
        if (!Check("pa_gc_collect", rt))
            return -1;
        try { return GcModule.Collect(rt, generation); }
        catch (Exception e) { Errors.SetInternal("pa_gc_collect", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_enable")]
    public static void Enable(Runtime* rt)
    {
        if (Check("pa_gc_enable", rt))
            rt->Gc.Enabled = 1;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_disable")]
    public static void Disable(Runtime* rt)
    {
        if (Check("pa_gc_disable", rt))
            rt->Gc.Enabled = 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_isenabled")]
    public static int IsEnabled(Runtime* rt) => Check("pa_gc_isenabled", rt) ? rt->Gc.Enabled : -1;

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_count")]
    public static void GetCount(Runtime* rt, nint* output)
    {
        if (!Check("pa_gc_get_count", rt) || !CheckOut("pa_gc_get_count", output))
            return;
        for (int i = 0; i < GcState.NumGenerations; i++)
            output[i] = rt->Gc.Generations[i].Count;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_threshold")]
    public static void GetThreshold(Runtime* rt, int* output)
    {
        if (!Check("pa_gc_get_threshold", rt) || !CheckOut("pa_gc_get_threshold", output))
            return;
        for (int i = 0; i < GcState.NumGenerations; i++)
            output[i] = rt->Gc.Generations[i].Threshold;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_set_threshold")]
    public static void SetThreshold(Runtime* rt, int t0, int t1, int t2)
    {
        if (Check("pa_gc_set_threshold", rt))
            GcModule.SetThreshold(rt, t0, t1, t2);
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_stats")]
    public static int GetStats(Runtime* rt, GenerationStats* output)
    {
        if (!Check("pa_gc_get_stats", rt) || !CheckOut("pa_gc_get_stats", output))
            return -1;
        for (int i = 0; i < GcState.NumGenerations; i++)
            output[i] = rt->Gc.Stats[i];
        return 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_objects")]
    public static nuint GetObjects(Runtime* rt, int generation, PaObject** output, nuint cap)
    {
        if (!Check("pa_gc_get_objects", rt))
            return nuint.MaxValue;
        try { return GcModule.GetObjects(rt, generation, output, cap); }
        catch (Exception e) { Errors.SetInternal("pa_gc_get_objects", e); return nuint.MaxValue; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_referrers")]
    public static nuint GetReferrers(Runtime* rt, PaObject* target, PaObject** output, nuint cap)
    {
        if (!Check("pa_gc_get_referrers", rt) || !Validation.CheckObjectOf(target, rt, "pa_gc_get_referrers", "the object"))
            return nuint.MaxValue;
        try { return GcModule.GetReferrers(rt, &target, 1, output, cap); }
        catch (Exception e) { Errors.SetInternal("pa_gc_get_referrers", e); return nuint.MaxValue; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_referents")]
    public static nuint GetReferents(PaObject* o, PaObject** output, nuint cap)
    {
        if (!CheckObject("pa_gc_get_referents", o))
            return nuint.MaxValue;
        try { return GcModule.GetReferents(&o, 1, output, cap); }
        catch (Exception e) { Errors.SetInternal("pa_gc_get_referents", e); return nuint.MaxValue; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_referrers_n")]
    public static nuint GetReferrersN(Runtime* rt, PaObject** objs, nuint n, PaObject** output, nuint cap)
    {
        const string caller = "pa_gc_get_referrers_n";
        if (!Check(caller, rt) || !CheckObjects(caller, objs, n, rt))
            return nuint.MaxValue;
        try { return GcModule.GetReferrers(rt, objs, n, output, cap, caller); }
        catch (Exception e) { Errors.SetInternal(caller, e); return nuint.MaxValue; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_referents_n")]
    public static nuint GetReferentsN(PaObject** objs, nuint n, PaObject** output, nuint cap)
    {
        const string caller = "pa_gc_get_referents_n";
        if (!CheckObjects(caller, objs, n, null))
            return nuint.MaxValue;
        try { return GcModule.GetReferents(objs, n, output, cap, caller); }
        catch (Exception e) { Errors.SetInternal(caller, e); return nuint.MaxValue; }
    }

    /* objs[0..n): each a live object (of rt, when rt is not null); objs may be NULL only for n 0. */
    private static bool CheckObjects(string caller, PaObject** objs, nuint n, Runtime* rt)
    {
        if (n == 0)
            return true;
        if (objs == null)
        {
            Errors.Set($"{caller}: objs is NULL but n is {n}");
            return false;
        }
        for (nuint i = 0; i < n; i++)
        {
            // Invariants: objs[0..i) are live objects (of rt).
            PaObject* o = objs[i];
            Runtime* owner = o != null ? Validation.RuntimeOf(o) : null;
            if (owner != null && (rt == null || owner == rt))
                continue;
            string what = $"objs[{i}]";   // the message only on failure: no allocation per object
            if (rt != null)
                Validation.CheckObjectOf(o, rt, caller, what);
            else
                Validation.CheckObject(o, caller, what);
            return false;
        }
        return true;
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_track")]
    public static void Track(PaObject* o)
    {
        if (CheckObject("pa_gc_track", o) && o->Type->HasGc && !GcHead.Of(o)->IsTracked)
            GcList.Track(o->Type->Runtime, GcHead.Of(o));
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_untrack")]
    public static void Untrack(PaObject* o)
    {
        if (CheckObject("pa_gc_untrack", o) && GcHead.Of(o)->IsTracked)
            GcList.Untrack(GcHead.Of(o));
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_is_tracked")]
    public static int IsTracked(PaObject* o) => CheckObject("pa_gc_is_tracked", o) ? (GcHead.Of(o)->IsTracked ? 1 : 0) : -1;

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_is_finalized")]
    public static int IsFinalized(PaObject* o) => CheckObject("pa_gc_is_finalized", o) ? (GcHead.Of(o)->IsFinalized ? 1 : 0) : -1;

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_freeze")]
    public static void Freeze(Runtime* rt)
    {
        if (Check("pa_gc_freeze", rt))
            GcModule.Freeze(rt);
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_unfreeze")]
    public static void Unfreeze(Runtime* rt)
    {
        if (Check("pa_gc_unfreeze", rt))
            GcModule.Unfreeze(rt);
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_freeze_count")]
    public static nuint GetFreezeCount(Runtime* rt) =>
        Check("pa_gc_get_freeze_count", rt) ? (nuint)GcList.Size(&rt->Gc.Permanent) : nuint.MaxValue;

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_set_debug")]
    public static void SetDebug(Runtime* rt, int flags)
    {
        if (Check("pa_gc_set_debug", rt))
            GcModule.SetDebug(rt, flags);
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_debug")]
    public static int GetDebug(Runtime* rt) => Check("pa_gc_get_debug", rt) ? rt->Gc.Debug : -1;

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_get_garbage")]
    public static nuint GetGarbage(Runtime* rt, PaObject** output, nuint cap) =>
        Check("pa_gc_get_garbage", rt) ? GcModule.GetGarbage(rt, output, cap) : nuint.MaxValue;

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_garbage_remove_at")]
    public static int GarbageRemoveAt(Runtime* rt, nint index)
    {
        if (!Check("pa_gc_garbage_remove_at", rt))
            return -1;
        try { return GcModule.RemoveGarbageAt(rt, index); }
        catch (Exception e) { Errors.SetInternal("pa_gc_garbage_remove_at", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_garbage_remove")]
    public static int GarbageRemove(Runtime* rt, PaObject* o)
    {
        if (!Check("pa_gc_garbage_remove", rt) || !Validation.CheckObjectOf(o, rt, "pa_gc_garbage_remove", "the object"))
            return -1;
        try { return GcModule.RemoveGarbage(rt, o); }
        catch (Exception e) { Errors.SetInternal("pa_gc_garbage_remove", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_clear_garbage")]
    public static void ClearGarbage(Runtime* rt)
    {
        if (!Check("pa_gc_clear_garbage", rt))
            return;
        try { GcModule.ClearGarbage(rt); }
        catch (Exception e) { Errors.SetInternal("pa_gc_clear_garbage", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_add_callback")]
    public static int AddCallback(Runtime* rt, void* callback, void* user)
    {
        if (!Check("pa_gc_add_callback", rt))
            return -1;
        if (callback == null)
            return Errors.Fail("pa_gc_add_callback: cb is NULL");
        return GcModule.AddCallback(rt, callback, user);
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_gc_remove_callback")]
    public static int RemoveCallback(Runtime* rt, void* callback, void* user) =>
        Check("pa_gc_remove_callback", rt) ? GcModule.RemoveCallback(rt, callback, user) : -1;

    private static bool Check(string caller, Runtime* rt) => Validation.CheckRuntime(rt, caller);

    private static bool CheckOut(string caller, void* output)
    {
        if (output != null)
            return true;
        Errors.Set($"{caller}: out is NULL");
        return false;
    }

    private static bool CheckObject(string caller, PaObject* o) => Validation.CheckObject(o, caller);
}
