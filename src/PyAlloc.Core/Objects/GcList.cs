using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Objects;

/// <summary>
/// The collector's intrusive doubly linked lists of GC heads (CPython's gc_list_*).
/// </summary>
/// <remarks>
/// A list head is a GcHead without flags. Prev pointers keep their node's flag bits;
/// Next pointers carry NEXT_MASK_UNREACHABLE only inside move_unreachable.
/// </remarks>
internal static unsafe class GcList
{
    public static void Init(GcHead* list)
    {
        list->Next = (nuint)list;
        list->Prev = (nuint)list;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsEmpty(GcHead* list) => list->Next == (nuint)list;

    /// <summary>Appends <paramref name="node"/> (on no list) at the end of <paramref name="list"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Append(GcHead* node, GcHead* list)
    {
        GcHead* last = (GcHead*)list->Prev;
        node->SetPrev(last);
        last->SetNext(node);
        node->SetNext(list);
        list->Prev = (nuint)node;
    }

    /// <summary>Moves <paramref name="node"/> from its list to the end of <paramref name="list"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Move(GcHead* node, GcHead* list)
    {
        GcHead* fromPrev = node->PrevHead;
        GcHead* fromNext = (GcHead*)node->Next;
        fromPrev->SetNext(fromNext);
        fromNext->SetPrev(fromPrev);
        GcHead* toPrev = (GcHead*)list->Prev;
        node->SetPrev(toPrev);
        toPrev->SetNext(node);
        list->Prev = (nuint)node;
        node->SetNext(list);
    }

    /// <summary>Appends all of <paramref name="from"/> to <paramref name="to"/>; from becomes empty.</summary>
    public static void Merge(GcHead* from, GcHead* to)
    {
        Debug.Assert(from != to);
        if (!IsEmpty(from))
        {
            GcHead* toTail = (GcHead*)to->Prev;
            GcHead* fromHead = (GcHead*)from->Next;
            GcHead* fromTail = (GcHead*)from->Prev;
            toTail->SetNext(fromHead);
            fromHead->SetPrev(toTail);
            fromTail->SetNext(to);
            to->Prev = (nuint)fromTail;
        }
        Init(from);
    }

    public static nint Size(GcHead* list)
    {
        nint n = 0;
        for (GcHead* g = (GcHead*)list->Next; g != list; g = (GcHead*)g->Next)
            n++;
        return n;
    }

    // ------------------------------------------------------------- validate_list

    /// <summary>What every node of a list must show between two phases of a collection.</summary>
    [Flags]
    public enum Expect
    {
        /// <summary>A normal list: no node Collecting, no Next marked unreachable.</summary>
        Plain = 0,
        /// <summary>Every node has PREV_MASK_COLLECTING.</summary>
        Collecting = 1,
        /// <summary>Every node's Next carries NEXT_MASK_UNREACHABLE (move_unreachable's output).</summary>
        Unreachable = 2,
    }

    /// <summary>Calls of <see cref="Validate"/> so far (Debug builds only): lets a test see that the checks run.</summary>
    public static long Validations;

    /// <summary>
    /// gcmodule.c's validate_list, in Debug builds only: the collector calls it between its phases and
    /// stops the process (naming the object) when a list is broken or a node's flags are not what the
    /// phase leaves. Compiled out of Release builds, as CPython's is without Py_DEBUG.
    /// </summary>
    [Conditional("DEBUG")]
    public static void Validate(GcHead* list, Expect expect, string phase)
    {
        Validations++;
        string? problem = FindProblem(list, expect, out GcHead* at);
        if (problem != null)
        {
            string where = at == null ? "the list head" : $"object {Errors.Hex(ObjectOf(at))} of type '{Lifecycle.NameOf(ObjectOf(at)->ObType)}'";
            Fatal.Error($"gc: validate_list after {phase}: {where}: {problem}");
        }
    }

    private static PaObject* ObjectOf(GcHead* g) => GcHead.ObjectOf(g);

    /// <summary>
    /// The first way <paramref name="list"/> breaks validate_list's rules: the head carries a flag, a node's
    /// Prev is not its predecessor, the head's Prev is not the last node, a node's Collecting or unreachable
    /// mark differs from <paramref name="expect"/>, or the walk does not come back (more than
    /// <paramref name="limit"/> nodes).
    /// </summary>
    /// <param name="list">The list head.</param>
    /// <param name="expect">The flags each node must have.</param>
    /// <param name="at">The node at fault, or null for the head.</param>
    /// <param name="limit">The most nodes the walk follows.</param>
    /// <returns>Null when the list is sound, else the problem.</returns>
    public static string? FindProblem(GcHead* list, Expect expect, out GcHead* at, long limit = long.MaxValue)
    {
        at = null;
        if ((list->Prev & GcHead.PrevMaskCollecting) != 0)
            return "the head is marked Collecting";
        if ((list->Next & GcHead.NextMaskUnreachable) != 0)
            return "the head's Next is marked unreachable";
        nuint prevValue = (expect & Expect.Collecting) != 0 ? GcHead.PrevMaskCollecting : 0;
        nuint nextValue = (expect & Expect.Unreachable) != 0 ? GcHead.NextMaskUnreachable : 0;
        GcHead* prev = list;
        GcHead* g = (GcHead*)list->Next;
        for (long n = 0; g != list; n++)
        {
            // Invariants: every node from the head to prev is linked both ways and flagged as expected.
            at = g;
            if (n >= limit)
                return $"the list does not come back to its head within {limit} nodes";
            GcHead* next = g->NextHead;
            if (next == null)
                return "Next is null: the object is on no list";
            if (g->PrevHead != prev)
                return $"Prev is {Errors.Hex(g->PrevHead)}, not its predecessor {Errors.Hex(prev)}";
            if ((g->Prev & GcHead.PrevMaskCollecting) != prevValue)
                return prevValue != 0 ? "not marked Collecting" : "still marked Collecting";
            if ((g->Next & GcHead.NextMaskUnreachable) != nextValue)
                return nextValue != 0 ? "Next not marked unreachable" : "Next still marked unreachable";
            prev = g;
            g = next;
        }
        at = null;
        return (GcHead*)list->Prev == prev ? null : "the head's Prev is not the last node";
    }

    /// <summary>_PyObject_GC_TRACK: at the young end of generation 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Track(Runtime* rt, GcHead* g)
    {
        Debug.Assert(!g->IsTracked, "object already tracked");
        Append(g, GcState.GenHead(&rt->Gc, 0));
    }

    /// <summary>_PyObject_GC_UNTRACK: off its list; only the lasting flags stay.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Untrack(GcHead* g)
    {
        GcHead* prev = g->PrevHead;
        GcHead* next = (GcHead*)g->Next;
        prev->SetNext(next);
        next->SetPrev(prev);
        g->Next = 0;
        g->Prev &= GcHead.PrevMaskFinalized | GcHead.PrevMaskWeakrefs;
    }
}
