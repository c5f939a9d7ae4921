using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Api;
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
        if (!Validation.CheckRuntime(rt, "pa_list_new"))
            return null;
        try { return Traced.NewObject(rt->ListType, 0, "pa_list_new", site); }
        catch (Exception e) { Errors.SetInternal("pa_list_new", e); return null; }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_list_append")]
    public static int ListAppend(PaObject* list, PaObject* item)
    {
        if (!CheckList("pa_list_append", list) || !CheckItem("pa_list_append", list, item))
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
        if (!CheckList("pa_list_set", list) || !CheckIndex("pa_list_set", list, i) || !CheckItem("pa_list_set", list, item))
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
    public static int ListCheck(PaObject* o) => Validation.CheckObject(o, "pa_list_check") && ListObject.Check(o) ? 1 : 0;

    private static bool CheckList(string caller, PaObject* list)
    {
        if (!Validation.CheckObject(list, caller, "list"))
            return false;
        if (!ListObject.Check(list))
            Errors.Set($"{caller}: expected a list, got a '{Lifecycle.NameOf(list->Type)}'");
        else
            return true;
        return false;
    }

    /* Pre: list is a live list.  item must be a live object of the list's runtime. */
    private static bool CheckItem(string caller, PaObject* list, PaObject* item) =>
        Validation.CheckObjectOf(item, list->Type->Runtime, caller, "item");

    private static bool CheckIndex(string caller, PaObject* list, nuint i)
    {
        nint size = ((ListObject*)list)->Base.Size;
        if (i < (nuint)size)
            return true;
        Errors.Set($"{caller}: index {i} out of range (size {size})");
        return false;
    }
}
