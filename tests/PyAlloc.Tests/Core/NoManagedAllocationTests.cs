using System;
using NUnit.Framework;
using PyAlloc.Core.Gc;
using PyAlloc.Core.Objects;
using CoreObject = PyAlloc.Core.Abi.PaObject;

namespace PyAlloc.Tests.Core;

/// <summary>
/// The hot paths allocate no managed memory: object deaths (a chain released by one
/// decref) and collections (unreachable cycles, a reachable graph). Each is run once to warm up
/// (first calls may allocate in the runtime), then measured with the thread's allocation counter.
/// </summary>
[TestFixture]
public sealed unsafe class NoManagedAllocationTests : CoreRuntimeFixture
{
    private CoreObject* Chain(TypeObject* t, int length)
    {
        CoreObject* head = Lifecycle.New(t, 0, "test");
        CoreObject* current = head;
        for (int i = 1; i < length; i++)
        {
            CoreObject* next = Lifecycle.New(t, 0, "test");
            ((CoreLink*)current)->Next = next; // takes our reference
            current = next;
        }
        return head;
    }

    /* n objects in unreachable cycles of 4 (the bench_gc cycles workload). */
    private void Cycles(TypeObject* t, int n)
    {
        for (int i = 0; i + 4 <= n; i += 4)
        {
            CoreObject** c = stackalloc CoreObject*[4];
            for (int k = 0; k < 4; k++)
                c[k] = Lifecycle.New(t, 0, "test");
            for (int k = 0; k < 4; k++)
            {
                ((CoreLink*)c[k])->Next = c[(k + 1) % 4];
                RefCount.Incref(c[(k + 1) % 4]);
            }
            for (int k = 0; k < 4; k++)
                RefCount.Decref(c[k]);
        }
    }

    [Test]
    public void ReleasingAPlainChain_AllocatesNoManagedMemory()
    {
        TypeObject* t = LinkType();
        Assert.That(t->PlainDeath, Is.True, "the link type has no finaliser and no dealloc");
        RefCount.Decref(Chain(t, 1000)); // warm-up
        CoreObject* head = Chain(t, 200_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        RefCount.Decref(head);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That((long)t->LiveObjects, Is.Zero);
        Assert.That(allocated, Is.Zero, "managed bytes allocated while 200,000 objects died");
    }

    [Test]
    public void CollectingUnreachableCycles_AllocatesNoManagedMemory()
    {
        Rt->Gc.Enabled = 0;
        TypeObject* t = LinkType();
        Cycles(t, 400);
        Assert.That((long)Collector.Collect(Rt, 2), Is.EqualTo(400L)); // warm-up
        Cycles(t, 200_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        nint found = Collector.Collect(Rt, 2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That((long)found, Is.EqualTo(200_000L));
        Assert.That(allocated, Is.Zero, "managed bytes allocated while collecting 50,000 cycles");
    }

    [Test]
    public void CollectingAReachableGraph_AllocatesNoManagedMemory()
    {
        Rt->Gc.Enabled = 0;
        TypeObject* t = LinkType();
        CoreObject* all = NewList();
        var random = new Random(6);
        const int n = 100_000;
        var nodes = new nint[n];
        for (int i = 0; i < n; i++)
        {
            CoreObject* o = Lifecycle.New(t, 0, "test");
            nodes[i] = (nint)o;
            Append(all, o);
            RefCount.Decref(o);
        }
        for (int i = 0; i < n; i++)
        {
            CoreObject* target = (CoreObject*)nodes[random.Next(n)];
            RefCount.Incref(target);
            ((CoreLink*)nodes[i])->Next = target;
        }
        Collector.Collect(Rt, 2); // warm-up, and everything to generation 2

        long before = GC.GetAllocatedBytesForCurrentThread();
        nint found = Collector.Collect(Rt, 2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That((long)found, Is.Zero);
        Assert.That(allocated, Is.Zero, "managed bytes allocated during a full collection of 100,000 objects");
        RefCount.Decref(all);
    }
}
