using System;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Api;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Native.Exports;

/// <summary>Section 6 of pyalloc.h: the built-in list.</summary>
/// <remarks>
/// Each export checks its arguments (<see cref="Validation"/>: a live list, an item of the
/// list's runtime; <see cref="ListObject.CheckIndex"/> for an index), calls one function of
/// <see cref="ListObject"/>, and maps an exception through <see cref="Boundary"/>.
/// </remarks>
internal static unsafe class ListExports
{
    /// <summary>pa_list_new(_at) through native/entry.</summary>
    [UnmanagedCallersOnly(EntryPoint = "pa__list_new")]
    public static PaObject* ListNew(Runtime* rt, AllocationSite* site)
    {
        if (!Validation.CheckRuntime(rt, "pa_list_new"))
            return null;
        try { return Traced.NewObject(rt->ListType, 0, "pa_list_new", site); }
        catch (Exception e) { return (PaObject*)Boundary.Null("pa_list_new", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_list_append")]
    public static int ListAppend(PaObject* list, PaObject* item)
    {
        if (!CheckList(list, "pa_list_append") || !CheckItem(list, item, "pa_list_append"))
            return -1;
        try { return ListObject.Append(list, item); }
        catch (Exception e) { return Boundary.Fail("pa_list_append", e, -1); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_list_get")]
    public static PaObject* ListGet(PaObject* list, nuint i)
    {
        if (!CheckList(list, "pa_list_get"))
            return null;
        try { return ListObject.GetItem(list, i); }
        catch (Exception e) { return (PaObject*)Boundary.Null("pa_list_get", e); }
    }

    [UnmanagedCallersOnly(EntryPoint = "pa_list_set")]
    public static int ListSet(PaObject* list, nuint i, PaObject* item)
    {
        if (!CheckList(list, "pa_list_set") || !ListObject.CheckIndex(list, i, "pa_list_set")
            || !CheckItem(list, item, "pa_list_set"))
            return -1;
        try { ListObject.Set(list, (nint)i, item); return 0; }
        catch (Exception e) { return Boundary.Fail("pa_list_set", e, -1); }
    }

    /// <remarks>Cannot throw past its check: <see cref="ListObject.Size"/> is a load.</remarks>
    [UnmanagedCallersOnly(EntryPoint = "pa_list_size")]
    public static nuint ListSize(PaObject* list) =>
        CheckList(list, "pa_list_size") ? ListObject.Size(list) : nuint.MaxValue;

    [UnmanagedCallersOnly(EntryPoint = "pa_list_clear")]
    public static int ListClear(PaObject* list)
    {
        if (!CheckList(list, "pa_list_clear"))
            return -1;
        try { ListObject.ClearItems(list); return 0; }
        catch (Exception e) { return Boundary.Fail("pa_list_clear", e, -1); }
    }

    /// <remarks>Cannot throw past its check: <see cref="ListObject.Check"/> is a compare.</remarks>
    [UnmanagedCallersOnly(EntryPoint = "pa_list_check")]
    public static int ListCheck(PaObject* o) => Validation.CheckObject(o, "pa_list_check") && ListObject.Check(o) ? 1 : 0;

    private static bool CheckList(PaObject* list, string caller) =>
        Validation.CheckObjectKind(list, &ListObject.Check, "list", caller, "list");

    /* Pre: list is a live list.  item must be a live object of the list's runtime. */
    private static bool CheckItem(PaObject* list, PaObject* item, string caller) =>
        Validation.CheckObjectOf(item, list->ObType->Runtime, caller, "item");
}
