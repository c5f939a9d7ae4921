using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Native.Exports;

/// <summary>Section 6 of pyalloc.h: the built-in list.</summary>
internal static unsafe class ListExports
{
    /// <summary>pa_list_new(_at) through native/entry.</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__list_new")]
    public static PaObject* ListNew(Runtime* rt, AllocationSite* site)
    {
        if (rt == null)
            return (PaObject*)Errors.Null("pa_list_new: rt is NULL");
        try { return Traced.NewObject(rt->ListType, 0, "pa_list_new", site); }
        catch (Exception e) { Errors.SetInternal("pa_list_new", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_list_append")]
    public static int ListAppend(PaObject* list, PaObject* item)
    {
        if (!CheckList("pa_list_append", list) || !CheckItem("pa_list_append", item))
            return -1;
        try { return ListObject.Append(list, item); }
        catch (Exception e) { Errors.SetInternal("pa_list_append", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_list_get")]
    public static PaObject* ListGet(PaObject* list, nuint i)
    {
        if (!CheckList("pa_list_get", list) || !CheckIndex("pa_list_get", list, i))
            return null;
        return ((ListObject*)list)->Items[i];
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_list_set")]
    public static int ListSet(PaObject* list, nuint i, PaObject* item)
    {
        if (!CheckList("pa_list_set", list) || !CheckIndex("pa_list_set", list, i) || !CheckItem("pa_list_set", item))
            return -1;
        try { ListObject.Set(list, (nint)i, item); return 0; }
        catch (Exception e) { Errors.SetInternal("pa_list_set", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_list_size")]
    public static nuint ListSize(PaObject* list) =>
        CheckList("pa_list_size", list) ? (nuint)((ListObject*)list)->Base.Size : nuint.MaxValue;

    [UnmanagedCallersOnly(EntryPoint = "pa_list_clear")]
    public static int ListClear(PaObject* list)
    {
        if (!CheckList("pa_list_clear", list))
            return -1;
        try { ListObject.ClearItems(list); return 0; }
        catch (Exception e) { Errors.SetInternal("pa_list_clear", e); return -1; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_list_check")]
    public static int ListCheck(PaObject* o) => ListObject.Check(o) ? 1 : 0;

    private static bool CheckList(string caller, PaObject* list)
    {
        if (list == null)
            Errors.Set($"{caller}: list is NULL");
        else if (!ListObject.Check(list))
            Errors.Set($"{caller}: expected a list, got a '{Lifecycle.NameOf(list->Type)}'");
        else
            return true;
        return false;
    }

    private static bool CheckItem(string caller, PaObject* item)
    {
        if (item != null)
            return true;
        Errors.Set($"{caller}: item is NULL");
        return false;
    }

    private static bool CheckIndex(string caller, PaObject* list, nuint i)
    {
        nint size = ((ListObject*)list)->Base.Size;
        if (i < (nuint)size)
            return true;
        Errors.Set($"{caller}: index {i} out of range (size {size})");
        return false;
    }
}
