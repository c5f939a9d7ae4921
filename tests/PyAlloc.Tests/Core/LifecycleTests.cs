using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Core.Gc;
using PyAlloc.Core.Objects;
using CoreObject = PyAlloc.Core.Abi.PaObject;
using CoreTypeSpec = PyAlloc.Core.Abi.PaTypeSpec;

namespace PyAlloc.Tests.Core;

/// <summary>Births and deaths in-process: counts, generation 0's count, and the trashcan on a deep chain.</summary>
[TestFixture]
public sealed unsafe class LifecycleTests : CoreRuntimeFixture
{
    private static Runtime* s_observed;
    private static int s_deallocs;
    private static int s_maxDepth;

    [UnmanagedCallersOnly]
    private static void ObserveDepth(CoreObject* o)
    {
        s_deallocs++;
        if (s_observed->DeallocDepth > s_maxDepth)
            s_maxDepth = s_observed->DeallocDepth;
    }

    private static int TrashcanNesting =>
        (int)typeof(Lifecycle).GetField("TrashcanNesting", BindingFlags.NonPublic | BindingFlags.Static)!.GetRawConstantValue()!;

    [SetUp]
    public void ResetObservations()
    {
        s_observed = Rt;
        s_deallocs = 0;
        s_maxDepth = 0;
    }

    [Test]
    public void New_GivesAZeroedTrackedObjectWithCount1_AndCountsItInGeneration0()
    {
        TypeObject* t = LinkType();
        CoreObject* o = Lifecycle.New(t, 0, "test");
        Assert.That((long)o->ObRefcnt, Is.EqualTo(1));
        Assert.That((nint)o->ObType, Is.EqualTo((nint)t));
        Assert.That((long)((CoreLink*)o)->Next, Is.Zero);
        Assert.That(GcHead.Of(o)->IsTracked, Is.True);
        Assert.That(((long)Rt->Gc.Generations[0].Count, (long)t->LiveObjects), Is.EqualTo((1L, 1L)));
        RefCount.Decref(o);
        Assert.That(((long)Rt->Gc.Generations[0].Count, (long)t->LiveObjects, (long)t->LiveBytes), Is.EqualTo((0L, 0L, 0L)));
    }

    [Test]
    public void AMillionLinkChain_DiesWithTheDeallocNestingBoundedByTheTrashcan_EachLinkOnce()
    {
        const int length = 1_000_000;
        TypeObject* t = LinkType(&ObserveDepth);
        CoreObject* head = Lifecycle.New(t, 0, "test");
        CoreObject* current = head;
        for (int i = 1; i < length; i++)
        {
            CoreObject* next = Lifecycle.New(t, 0, "test");
            ((CoreLink*)current)->Next = next; // takes our reference
            current = next;
        }
        Assert.That((long)t->LiveObjects, Is.EqualTo(length));

        RefCount.Decref(head);

        Assert.That(s_deallocs, Is.EqualTo(length));
        Assert.That(s_maxDepth, Is.InRange(1, TrashcanNesting), "nested deaths never exceed the trashcan's limit");
        Assert.That(s_maxDepth, Is.EqualTo(TrashcanNesting), "and the chain was deep enough to reach it");
        Assert.That(((long)Rt->DeallocDepth, (long)Rt->DeallocLater), Is.EqualTo((0L, 0L)), "nothing left deposited");
        Assert.That(((long)t->LiveObjects, (long)t->LiveBytes), Is.EqualTo((0L, 0L)));
        Assert.That(GcList.IsEmpty(Generation(0)) && GcList.IsEmpty(Generation(1)) && GcList.IsEmpty(Generation(2)), Is.True);
    }

    [Test]
    public void AMillionListChain_InACycle_IsCollectedThroughTheTrashcan()
    {
        const int length = 1_000_000;
        Rt->Gc.Enabled = 0;
        CoreObject* head = NewList();
        CoreObject* current = head;
        for (int i = 1; i < length; i++)
        {
            CoreObject* next = NewList();
            Append(current, next);
            RefCount.Decref(next);
            current = next;
        }
        Append(current, head);
        RefCount.Decref(head);

        Assert.That((long)GcModule.Collect(Rt, 2), Is.EqualTo(length));
        Assert.That(((long)Rt->DeallocDepth, (long)Rt->DeallocLater), Is.EqualTo((0L, 0L)));
        Assert.That((long)Rt->ListType->LiveObjects, Is.Zero);
    }

    [Test]
    public void ResurrectionInAFinaliser_IsSeenByTheFinalizedFlag_SoTheFinaliserRunsOnce()
    {
        s_resurrected = null;
        s_finalized = 0;
        byte* name = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("Phoenix"u8));
        nuint* offsets = stackalloc nuint[2] { (nuint)sizeof(CoreObject), 0 };
        CoreTypeSpec spec = new()
        {
            Name = name, Basicsize = (nuint)sizeof(CoreLink), Flags = TypeObject.FlagHaveGc,
            Finalize = (delegate* unmanaged[Cdecl]<CoreObject*, void>)(delegate* unmanaged<CoreObject*, void>)&Resurrect, RefOffsets = offsets,
        };
        TypeObject* t = TypeObject.Create(Rt, &spec, TypeKind.User);
        CoreObject* o = Lifecycle.New(t, 0, "test");

        RefCount.Decref(o);
        Assert.That((nint)s_resurrected, Is.EqualTo((nint)o));
        Assert.That((long)o->ObRefcnt, Is.EqualTo(1));
        Assert.That(GcHead.Of(o)->IsFinalized && GcHead.Of(o)->IsTracked, Is.True);
        RefCount.Decref(o);
        Assert.That(s_finalized, Is.EqualTo(1));
        Assert.That((long)t->LiveObjects, Is.Zero);
    }

    private static CoreObject* s_resurrected;
    private static int s_finalized;

    [UnmanagedCallersOnly]
    private static void Resurrect(CoreObject* o)
    {
        s_finalized++;
        RefCount.Incref(o);
        s_resurrected = o;
    }
}
