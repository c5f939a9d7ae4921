using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// Weak references through the binding: the article's parent back-reference, callbacks written in C#
/// (by count and by collection), their handles, sharing, and the trashcan.
/// </summary>
[TestFixture]
public sealed unsafe class WeakRefTests : RuntimeFixture
{
    [Test]
    public void Article_AWeakBackReferenceToTheParent_LetsTheParentGoByCount_WithoutACollection()
    {
        PyType nodeType = PyType.Define<Node>(Rt, "Node");
        PyOwned parent = nodeType.New();
        using PyOwned child = nodeType.New();
        using (PyOwned children = PyList.New(Rt))
            PyObjectRef.Assign(&parent.As<Node>()->Children, children);
        using (PyOwned back = PyWeakRef.New(parent))                             // child.parent = weakref.ref(self)
            PyObjectRef.Assign(&child.As<Node>()->Parent, back);
        PyList.Append(new PyObjectRef(parent.As<Node>()->Children), child); // self.children.append(child)

        PyOwned? GetParent() => PyWeakRef.TryGet(new PyObjectRef(child.As<Node>()->Parent));
        using (PyOwned? p = GetParent())
            Assert.That(p?.Ref, Is.EqualTo(parent.Ref), "child.get_parent() while the parent lives");
        Assert.That(parent.RefCount, Is.EqualTo(1), "a weak reference does not increase the count");
        Assert.That(child.RefCount, Is.EqualTo(2), "ours and the children list's");

        parent.Dispose();
        Assert.That(GetParent(), Is.Null, "the parent was freed normally: get_parent() returns None");
        Assert.That(child.RefCount, Is.EqualTo(1), "the parent's children list released the child");
        Assert.That(Rt.GetStats().Sum(s => s.Collections), Is.Zero, "no collection was needed");
    }

    [Test]
    public void Callback_WrittenInCSharp_RunsOnceWhenTheTargetDiesByCount_WithTheWeakrefAlreadyCleared()
    {
        PyOwned target = PyList.New(Rt);
        var calls = new List<(PyObjectRef Weakref, bool TargetGone)>();
        using PyOwned wr = PyWeakRef.New(target, w =>
        {
            using PyOwned? t = PyWeakRef.TryGet(w);
            calls.Add((w, t == null));
        });
        Assert.That(Rt.RegisteredCallbackHandles, Is.EqualTo(1));

        target.Dispose();
        Assert.That(calls, Is.EqualTo(new[] { (wr.Ref, true) }), "called once, with the weakref, after it was cleared");
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero, "the delegate's handle is freed once the callback has run");
        Assert.That(PyWeakRef.TryGet(wr), Is.Null);
    }

    [Test]
    public void Callback_RunsWhenTheCollectorFreesTheTarget()
    {
        (PyObjectRef a, _) = UnreachableCycle(HolderType());
        int calls = 0;
        using PyOwned wr = PyWeakRef.New(a, _ => calls++);
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(PyWeakRef.TryGet(wr), Is.Null);
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero);
    }

    [Test]
    public void Callback_OfAWeakrefThatIsGarbageItself_IsNotCalled_AndItsHandleIsFreedWithTheRuntime()
    {
        int calls = 0;
        using (PyOwned a = PyList.New(Rt), b = PyList.New(Rt))
        {
            PyList.Append(a, b);
            PyList.Append(b, a);
            using PyOwned wr = PyWeakRef.New(b, _ => calls++);
            PyList.Append(a, wr); // the weakref belongs to the cycle
        }
        Assert.That(Rt.Collect(), Is.EqualTo(3));
        Assert.That(calls, Is.Zero, "the weakref was unreachable too: its callback is not called");
        Assert.That(Rt.RegisteredCallbackHandles, Is.EqualTo(1), "never called: the runtime keeps the handle");
        Rt.Dispose();
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero);
    }

    [Test]
    public void Callback_OfAWeakrefThatDiesBeforeItsTarget_IsNeverCalled()
    {
        using PyOwned target = PyList.New(Rt);
        int calls = 0;
        PyOwned wr = PyWeakRef.New(target, _ => calls++);
        Assert.That(PyWeakRef.Count(target), Is.EqualTo(1));
        wr.Dispose();
        Assert.That(PyWeakRef.Count(target), Is.Zero);
        target.Dispose();
        Assert.That(calls, Is.Zero);
    }

    [Test]
    public void Callbacks_RunNewestFirst_AsCPythonsWeakrefList()
    {
        PyOwned target = PyList.New(Rt);
        var order = new List<int>();
        using PyOwned w1 = PyWeakRef.New(target, _ => order.Add(1));
        using PyOwned w2 = PyWeakRef.New(target, _ => order.Add(2));
        using PyOwned w3 = PyWeakRef.New(target, _ => order.Add(3));
        target.Dispose();
        Assert.That(order, Is.EqualTo(new[] { 3, 2, 1 }));
    }

    [Test]
    public void WeakrefsWithoutCallback_AreShared_ThoseWithACallbackAreNot()
    {
        using PyOwned target = PyList.New(Rt);
        using PyOwned w1 = PyWeakRef.New(target), w2 = PyWeakRef.New(target);
        Assert.That(w2.Ref, Is.EqualTo(w1.Ref), "weakref.ref(o) twice gives the same weakref");
        Assert.That(w1.RefCount, Is.EqualTo(2));
        using PyOwned w3 = PyWeakRef.New(target, _ => { });
        Assert.That(w3.Ref, Is.Not.EqualTo(w1.Ref));
        Assert.That(PyWeakRef.Count(target), Is.EqualTo(2), "getweakrefcount counts weakref objects");
        Assert.That(PyWeakRef.Check(w3) && !PyWeakRef.Check(target), Is.True);
        Assert.That(w1.Ref.IsTracked, Is.True, "a weakref is itself a GC object");
        Assert.That(w1.TypeName, Is.EqualTo("weakref"));
    }

    [Test]
    public void TryGet_ReturnsANewReferenceToTheLiveTarget()
    {
        using PyOwned target = PyList.New(Rt);
        using PyOwned wr = PyWeakRef.New(target);
        using (PyOwned? t = PyWeakRef.TryGet(wr))
        {
            Assert.That(t!.Ref, Is.EqualTo(target.Ref));
            Assert.That(target.RefCount, Is.EqualTo(2));
        }
        Assert.That(target.RefCount, Is.EqualTo(1));
    }

    [Test]
    public void ACallbackThatThrows_GoesToCallbackException_AndTheTargetStillDies()
    {
        var seen = new List<Exception>();
        Rt.CallbackException += seen.Add;
        PyOwned target = PyList.New(Rt);
        using PyOwned wr = PyWeakRef.New(target, _ => throw new InvalidOperationException("boom"));
        using PyOwned plain = PyWeakRef.New(target);
        target.Dispose();
        Assert.That(seen.Select(e => e.Message), Is.EqualTo(new[] { "boom" }));
        Assert.That(PyWeakRef.TryGet(plain), Is.Null);
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero);
    }

    /// <summary>
    /// pa_gc_untrack is allowed on any object, weakrefs included. When the target of an untracked weakref with a
    /// callback is found unreachable, the collector must still call the callback (or at least not fail), and
    /// must remain usable afterwards.
    /// </summary>
    [Test]
    public void AnUntrackedWeakrefWithACallback_DoesNotBreakTheCollector()
    {
        int calls = 0;
        PyOwned a = PyList.New(Rt), b = PyList.New(Rt);
        PyList.Append(a, b);
        PyList.Append(b, a);
        using PyOwned wr = PyWeakRef.New(a, _ => calls++);
        wr.Ref.Untrack();
        a.Dispose();
        b.Dispose();

        long collected = Rt.Collect();
        string error = PyMemory.LastError;
        UnreachableCycle(HolderType());
        long later = Rt.Collect();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(error, Does.Not.Contain("internal error"));
            Assert.That(collected, Is.EqualTo(2));
            Assert.That(calls, Is.EqualTo(1));
            Assert.That(later, Is.EqualTo(2), "the collector still works afterwards");
        }
    }

    /// <summary>
    /// CPython's weakref get checks <c>Py_REFCNT(obj) &gt; 0</c> (gh-60806): when a long chain is released, the
    /// trashcan defers deallocations, and a deferred object keeps its weakrefs while its count is already 0.
    /// Code running meanwhile (here: weakref callbacks of other objects dying in the same chain) must see such
    /// an object as dead; a weakref handing it out would resurrect a corpse the trashcan destroys anyway.
    /// </summary>
    [Test]
    public void TryGet_NeverHandsOutAnObjectWhoseCountReachedZero_WhileTheTrashcanDefersItsDeallocation()
    {
        const int depth = 200; // well past the trashcan's nesting limit
        // L[k] = [X[k], L[k+1]]: a list releases its items last first, so the chain below L[k] is
        // released (and, deep enough, deferred) before X[k] dies on the way back up.
        var weakLists = new List<PyOwned>();
        var weakItems = new List<PyOwned>();
        var zombies = new List<int>();
        void CheckEveryList(PyObjectRef _)
        {
            for (int j = 0; j < weakLists.Count; j++)
            {
                PyOwned? t = PyWeakRef.TryGet(weakLists[j]);
                if (t == null)
                    continue;
                if (t.RefCount == 1)
                {
                    zombies.Add(j); // its count was 0: a corpse awaiting the trashcan; leave the count alone
                    t.Detach();
                }
                else
                {
                    t.Dispose();
                }
            }
        }

        PyOwned head = PyList.New(Rt);
        weakLists.Add(PyWeakRef.New(head));
        PyObjectRef current = head;
        for (int k = 0; k < depth; k++)
        {
            using PyOwned item = PyList.New(Rt);
            weakItems.Add(PyWeakRef.New(item, CheckEveryList));
            PyList.Append(current, item);
            if (k == depth - 1)
                break;
            using PyOwned next = PyList.New(Rt);
            weakLists.Add(PyWeakRef.New(next));
            PyList.Append(current, next);
            current = next;
        }

        head.Dispose();
        Assert.That(weakLists.Concat(weakItems).Count(IsAlive), Is.Zero, "the whole chain is gone");
        Assert.That(zombies, Is.Empty,
            $"pa_weakref_get returned lists whose count had reached zero (deferred by the trashcan): L[{string.Join("], L[", zombies.Distinct().Take(10))}]...");
        foreach (PyOwned w in weakLists.Concat(weakItems))
            w.Dispose();
    }
}
