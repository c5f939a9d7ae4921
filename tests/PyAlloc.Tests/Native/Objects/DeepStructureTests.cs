using System;
using System.Threading;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// Releasing and collecting chains of a million objects: the trashcan must keep the C stack bounded.
/// The release runs on a thread with a 256 KiB stack, so any recursion proportional to the chain's
/// length would overflow it.
/// </summary>
[TestFixture]
public sealed unsafe class DeepStructureTests : RuntimeFixture
{
    private const int Length = 1_000_000;
    private const int SmallStack = 256 * 1024;

    private static void OnSmallStack(Action action)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { action(); }
            catch (Exception e) { error = e; }
        }, SmallStack);
        thread.Start();
        thread.Join();
        if (error != null)
            throw new AssertionException("on the small-stack thread: " + error);
    }

    private long AllTracked() => (long)NativeMethods.pa_gc_get_objects(Rt.Handle, -1, null, 0);

    /// <summary>[l1], l1 = [l2], ...: a chain of lists; returns a new reference to the head and the last list (borrowed).</summary>
    private PaObject* ListChain(out PaObject* last)
    {
        PaObject* head = NativeMethods.pa_list_new(Rt.Handle);
        PaObject* current = head;
        for (int i = 1; i < Length; i++)
        {
            PaObject* next = NativeMethods.pa_list_new(Rt.Handle);
            Assert.That(NativeMethods.pa_list_append(current, next), Is.Zero);
            NativeMethods.pa_decref(next);
            current = next;
        }
        last = current;
        return head;
    }

    [Test]
    public void AChainOfAMillionLists_IsReleasedByCount_WithoutOverflowingASmallStack()
    {
        PaObject* head = ListChain(out PaObject* last);
        using PyOwned weakLast = PyWeakRef.New(new PyObjectRef(last));
        Assert.That(AllTracked(), Is.EqualTo(Length + 1), "the lists and one weakref");

        OnSmallStack(() => NativeMethods.pa_decref(head));

        Assert.That(AllTracked(), Is.EqualTo(1), "only the weakref is left");
        Assert.That(IsAlive(weakLast), Is.False);
        Assert.That(Rt.Collect(), Is.Zero);
    }

    [Test]
    public void ACycleOfAMillionLists_IsCollected_WithoutOverflowingASmallStack()
    {
        PaObject* head = ListChain(out PaObject* last);
        Assert.That(NativeMethods.pa_list_append(last, head), Is.Zero);
        NativeMethods.pa_decref(head);
        Assert.That(AllTracked(), Is.EqualTo(Length));

        long collected = 0;
        OnSmallStack(() => collected = Rt.Collect());

        Assert.That(collected, Is.EqualTo(Length));
        Assert.That(AllTracked(), Is.Zero);
    }

    [Test]
    public void AChainOfAMillionDotNetDefinedObjects_IsReleasedThroughTheirRefOffsets()
    {
        PyType holder = PyTypeBuilder.For<Holder>("Link").WithFlags(PyTypeFlags.HaveGc).WithDealloc(Recorder.DeallocRecord).Build(Rt);
        PaObject* head = NativeMethods.pa_object_new(holder.Handle);
        PaObject* current = head;
        for (int i = 1; i < Length; i++)
        {
            PaObject* next = NativeMethods.pa_object_new(holder.Handle);
            ((Holder*)current)->Ref = next; // the field takes over our new reference
            current = next;
        }
        Assert.That(AllTracked(), Is.EqualTo(Length));

        OnSmallStack(() => NativeMethods.pa_decref(head));

        Assert.That(AllTracked(), Is.Zero);
        Assert.That(Recorder.Count("dealloc"), Is.EqualTo(Length), "each link's C# dealloc ran once");
    }
}
