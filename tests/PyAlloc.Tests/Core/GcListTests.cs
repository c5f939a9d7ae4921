using System.Collections.Generic;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Core.Objects;

namespace PyAlloc.Tests.Core;

/// <summary>The collector's intrusive lists (gc_list_*) on GC heads in plain native memory.</summary>
[TestFixture]
public sealed unsafe class GcListTests
{
    private GcHead* _heads;
    private const int Count = 8;

    [SetUp]
    public void AllocateHeads() => _heads = (GcHead*)NativeMemory.AllocZeroed(Count, (nuint)sizeof(GcHead));

    [TearDown]
    public void FreeHeads() => NativeMemory.Free(_heads);

    /// <summary>The list's nodes front to back, checking every Prev link on the way (and the way back).</summary>
    private static List<nint> Contents(GcHead* list)
    {
        var forward = new List<nint>();
        GcHead* previous = list;
        for (GcHead* g = (GcHead*)list->Next; g != list; g = (GcHead*)g->Next)
        {
            Assert.That((nint)g->PrevHead, Is.EqualTo((nint)previous), $"node {forward.Count}: Prev does not point at its predecessor");
            forward.Add((nint)g);
            previous = g;
            Assert.That(forward.Count, Is.LessThan(1000), "the list does not come back to its head");
        }
        Assert.That((nint)list->Prev, Is.EqualTo((nint)previous), "the head's Prev is not the last node");
        Assert.That((long)GcList.Size(list), Is.EqualTo(forward.Count));
        return forward;
    }

    private nint H(int i) => (nint)(_heads + i);

    [Test]
    public void Init_MakesAnEmptyCircularList()
    {
        GcHead list;
        GcList.Init(&list);
        Assert.That(GcList.IsEmpty(&list), Is.True);
        Assert.That(Contents(&list), Is.Empty);
    }

    [Test]
    public void Append_AddsAtTheEnd_InOrder()
    {
        GcHead list;
        GcList.Init(&list);
        for (int i = 1; i <= 3; i++)
            GcList.Append(_heads + i, &list);
        Assert.That(Contents(&list), Is.EqualTo(new[] { H(1), H(2), H(3) }));
        Assert.That(GcList.IsEmpty(&list), Is.False);
    }

    [Test]
    public void Move_TakesANodeOutOfItsListToTheEndOfAnother()
    {
        GcHead a, b;
        GcList.Init(&a);
        GcList.Init(&b);
        for (int i = 1; i <= 3; i++)
            GcList.Append(_heads + i, &a);
        GcList.Append(_heads + 4, &b);

        GcList.Move(_heads + 2, &b);
        Assert.That(Contents(&a), Is.EqualTo(new[] { H(1), H(3) }));
        Assert.That(Contents(&b), Is.EqualTo(new[] { H(4), H(2) }));
        GcList.Move(_heads + 1, &b);
        GcList.Move(_heads + 3, &b);
        Assert.That(GcList.IsEmpty(&a), Is.True);
        Assert.That(Contents(&b), Is.EqualTo(new[] { H(4), H(2), H(1), H(3) }));
    }

    [Test]
    public void Merge_AppendsAllOfOneListToAnother_AndEmptiesIt()
    {
        GcHead from, to, empty;
        GcList.Init(&from);
        GcList.Init(&to);
        GcList.Init(&empty);
        GcList.Append(_heads + 1, &to);
        GcList.Append(_heads + 2, &from);
        GcList.Append(_heads + 3, &from);

        GcList.Merge(&from, &to);
        Assert.That(Contents(&to), Is.EqualTo(new[] { H(1), H(2), H(3) }));
        Assert.That(Contents(&from), Is.Empty);
        GcList.Merge(&empty, &to);
        Assert.That(Contents(&to), Is.EqualTo(new[] { H(1), H(2), H(3) }), "merging an empty list changes nothing");
    }

    [Test]
    public void LinkOperations_KeepTheFlagBitsOfPrev()
    {
        GcHead a, b;
        GcList.Init(&a);
        GcList.Init(&b);
        GcHead* node = _heads + 5;
        node->Prev = GcHead.PrevMaskFinalized | GcHead.PrevMaskWeakrefs;
        GcList.Append(node, &a);
        GcList.Append(_heads + 6, &a);
        GcList.Move(node, &b);
        GcList.Merge(&b, &a);
        Assert.That(node->IsFinalized && node->HasWeakrefs, Is.True);
        Assert.That(Contents(&a), Is.EqualTo(new[] { H(6), H(5) }));
    }

    [Test]
    public void Untrack_UnlinksTheNode_ClearsNext_AndKeepsOnlyTheLastingFlags()
    {
        GcHead list;
        GcList.Init(&list);
        for (int i = 1; i <= 3; i++)
            GcList.Append(_heads + i, &list);
        GcHead* node = _heads + 2;
        node->Prev |= GcHead.PrevMaskFinalized | GcHead.PrevMaskWeakrefs | GcHead.PrevMaskCollecting;

        GcList.Untrack(node);
        Assert.That(node->IsTracked, Is.False);
        Assert.That(node->Prev, Is.EqualTo(GcHead.PrevMaskFinalized | GcHead.PrevMaskWeakrefs), "no pointer, no Collecting");
        Assert.That(Contents(&list), Is.EqualTo(new[] { H(1), H(3) }));
    }

    [Test]
    public void FindProblem_OfASoundList_IsNull_WithEachExpectation()
    {
        GcHead list;
        GcList.Init(&list);
        for (int i = 1; i <= 3; i++)
            GcList.Append(_heads + i, &list);
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Plain, out _), Is.Null);
        for (int i = 1; i <= 3; i++)
            _heads[i].Prev |= GcHead.PrevMaskCollecting;
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Collecting, out _), Is.Null);
        for (int i = 1; i <= 3; i++)
            _heads[i].Next |= GcHead.NextMaskUnreachable;
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Collecting | GcList.Expect.Unreachable, out _), Is.Null);
        GcHead empty;
        GcList.Init(&empty);
        Assert.That(GcList.FindProblem(&empty, GcList.Expect.Plain, out _), Is.Null);
    }

    [Test]
    public void FindProblem_NamesTheNodeWhoseFlagsOrLinksAreWrong()
    {
        GcHead list;
        GcList.Init(&list);
        for (int i = 1; i <= 4; i++)
            GcList.Append(_heads + i, &list);

        _heads[3].Prev |= GcHead.PrevMaskCollecting;
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Plain, out GcHead* at), Is.EqualTo("still marked Collecting"));
        Assert.That((nint)at, Is.EqualTo(H(3)));
        _heads[3].Prev &= ~GcHead.PrevMaskCollecting;

        _heads[2].Next |= GcHead.NextMaskUnreachable;
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Plain, out at), Is.EqualTo("Next still marked unreachable"));
        Assert.That((nint)at, Is.EqualTo(H(2)));
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Unreachable, out at), Is.EqualTo("Next not marked unreachable"));
        Assert.That((nint)at, Is.EqualTo(H(1)));
        _heads[2].Next &= ~GcHead.NextMaskUnreachable;

        _heads[4].SetPrev(_heads + 1); // a Prev that skips node 3
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Plain, out at), Does.StartWith("Prev is "));
        Assert.That((nint)at, Is.EqualTo(H(4)));
        _heads[4].SetPrev(_heads + 3);

        list.Prev = (nuint)(_heads + 2);
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Plain, out at), Is.EqualTo("the head's Prev is not the last node"));
        Assert.That(at == null, Is.True, "the head is at fault");
        list.Prev = (nuint)(_heads + 4);

        list.Prev |= GcHead.PrevMaskCollecting;
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Plain, out _), Is.EqualTo("the head is marked Collecting"));
        list.Prev &= ~GcHead.PrevMaskCollecting;

        Assert.That(GcList.FindProblem(&list, GcList.Expect.Plain, out _, limit: 3), Does.Contain("does not come back"));
        _heads[2].Next = 0; // untracked while on the list
        Assert.That(GcList.FindProblem(&list, GcList.Expect.Plain, out at), Does.StartWith("Next is null"));
        Assert.That((nint)at, Is.EqualTo(H(2)));
    }
}
