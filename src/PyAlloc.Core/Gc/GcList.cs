using System.Diagnostics;
using System.Runtime.CompilerServices;
using PyAlloc.Core.Objects;

namespace PyAlloc.Core.Gc;

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
