using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// weakref.getweakrefs, weakref.proxy and weakref.finalize through the binding (issue 17, item 6): CPython 3.12's list
/// order, a proxy's dereference throwing once the referent died, a finalizer's life (by count, by collection, early,
/// detached, at Dispose) and its managed callback's handle and exceptions.
/// </summary>
[TestFixture]
public sealed unsafe class WeakRefProxyFinalizeTests : RuntimeFixture
{
    /// <summary>CPython 3.12: r1 = ref(a, cb); p = proxy(a); r0 = ref(a); p2 = proxy(a, cb); r2 = ref(a, cb);
    /// getweakrefs(a) == [r0, p, r2, p2, r1].</summary>
    [Test]
    public void GetWeakRefs_ListsThemInCPythonsOrder()
    {
        using PyOwned a = PyList.New(Rt);
        using (PyRefArray none = PyWeakRef.GetWeakRefs(a))
            Assert.That(none, Is.Empty);
        using PyOwned r1 = PyWeakRef.New(a, _ => { });
        using PyOwned p = PyWeakRef.Proxy(a);
        using PyOwned r0 = PyWeakRef.New(a);
        using PyOwned p2 = PyWeakRef.Proxy(a, _ => { });
        using PyOwned r2 = PyWeakRef.New(a, _ => { });
        var names = new Dictionary<PyObjectRef, string>
        {
            [r1.Ref] = "r1", [p.Ref] = "p", [r0.Ref] = "r0", [p2.Ref] = "p2", [r2.Ref] = "r2",
        };
        using PyRefArray refs = PyWeakRef.GetWeakRefs(a);
        Assert.That(refs.Select(r => names[r]), Is.EqualTo(new[] { "r0", "p", "r2", "p2", "r1" }));
        Assert.That(PyWeakRef.Count(a), Is.EqualTo(5));
    }

    [Test]
    public void GetWeakRefs_OfNull_Throws() =>
        Assert.That(() => PyWeakRef.GetWeakRefs(default), Throws.TypeOf<PyAllocException>()
            .With.Message.Contains("pa_weakref_getweakrefs"));

    /// <summary>p = proxy(o); proxy(o) is p; del o; p.x raises ReferenceError.</summary>
    [Test]
    public void AProxy_GivesTheReferent_ThenThrowsOnceItDied()
    {
        PyOwned o = PyList.New(Rt);
        using PyOwned p = PyWeakRef.Proxy(o);
        using (PyOwned again = PyWeakRef.Proxy(o))
            Assert.That(again.Ref, Is.EqualTo(p.Ref), "callback-less proxies are shared");
        using PyOwned r = PyWeakRef.New(o);
        Assert.That(r.Ref, Is.Not.EqualTo(p.Ref), "and distinct from the shared weakref");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(PyWeakRef.IsProxy(p), Is.True);
            Assert.That(PyWeakRef.IsProxy(r), Is.False);
            Assert.That(PyWeakRef.Check(p), Is.True, "a proxy is a weakref to PyWeakref_Check");
            Assert.That(p.Ref.TypeName, Is.EqualTo("weakproxy"));
        }
        using (PyOwned got = PyWeakRef.ProxyGet(p))
            Assert.That(got.Ref, Is.EqualTo(o.Ref));
        Assert.That(() => PyWeakRef.ProxyGet(r), Throws.TypeOf<PyAllocException>().With.Message.Contains("expected a weakproxy"));
        o.Dispose();
        Assert.That(() => PyWeakRef.ProxyGet(p), Throws.TypeOf<PyAllocException>()
            .With.Message.EqualTo("pa_weakref_proxy_get: weakly-referenced object no longer exists"));
        Assert.That(PyWeakRef.TryGet(p), Is.Null, "TryGet stays quiet");
    }

    [Test]
    public void AProxyCallback_RunsWhenTheCollectorFreesTheReferent_AndItsHandleGoes()
    {
        (PyObjectRef a, _) = UnreachableCycle(HolderType());
        var seen = new List<PyObjectRef>();
        using PyOwned p = PyWeakRef.Proxy(a, seen.Add);
        Assert.That(Rt.RegisteredCallbackHandles, Is.EqualTo(1));
        Assert.That(Rt.Collect(), Is.EqualTo(2));
        Assert.That(seen, Is.EqualTo(new[] { p.Ref }));
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero);
    }

    /// <summary>f = finalize(o, cb); f.alive; del o; cb ran once; not f.alive; f() is None.</summary>
    [Test]
    public void AFinalizer_RunsOnceWhenTheTargetDiesByCount()
    {
        PyOwned o = PyList.New(Rt);
        int calls = 0;
        PyFinalizer f = PyFinalizer.Register(o, () => calls++);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(f.Alive, Is.True);
            Assert.That(f.AtExit, Is.True);
            Assert.That(f.Handle, Is.GreaterThan(0UL));
            Assert.That(o.RefCount, Is.EqualTo(1), "weak");
            Assert.That(PyWeakRef.Count(o), Is.EqualTo(1), "the registration is a weakref");
            Assert.That(Rt.RegisteredCallbackHandles, Is.EqualTo(1));
        }
        o.Dispose();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(calls, Is.EqualTo(1));
            Assert.That(f.Alive, Is.False);
            Assert.That(f.Call(), Is.False);
            Assert.That(f.AtExit, Is.False, "a dead finalizer's atexit reads false");
            Assert.That(calls, Is.EqualTo(1));
            Assert.That(Rt.RegisteredCallbackHandles, Is.Zero);
        }
    }

    [Test]
    public void AFinalizer_RunsWhenItsTargetDiesInACycle_WithoutTheCallerKeepingIt()
    {
        (PyObjectRef a, _) = UnreachableCycle(HolderType());
        int calls = 0;
        PyFinalizer.Register(a, () => calls++);
        // CPython 3.12 says 3 as well: the finalizer's weakref, freed by its callback, counts as collected.
        Assert.That(Rt.Collect(), Is.EqualTo(3));
        Assert.That(calls, Is.EqualTo(1));
    }

    /// <summary>f(); f() -> once; f.peek() and f.detach() then None.</summary>
    [Test]
    public void Call_RunsItEarly_Once()
    {
        using PyOwned o = PyList.New(Rt);
        int calls = 0;
        PyFinalizer f = PyFinalizer.Register(o, () => calls++);
        Assert.That(f.Call(), Is.True);
        Assert.That(f.Call(), Is.False);
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(f.Peek(), Is.Null);
        Assert.That(f.Detach(), Is.Null);
        Assert.That(PyWeakRef.Count(o), Is.Zero, "the registration's weakref went with it");
    }

    /// <summary>f.peek() == (o, cb, ...); f.detach() == (o, cb, ...); then not alive and never called.</summary>
    [Test]
    public void PeekAndDetach_GiveTheTargetAndCallback_DetachUnregisters()
    {
        PyOwned o = PyList.New(Rt);
        int calls = 0;
        Action callback = () => calls++;
        PyFinalizer f = PyFinalizer.Register(o, callback);
        var peeked = f.Peek();
        Assert.That(peeked, Is.Not.Null);
        using (peeked!.Value.Target)
        {
            Assert.That(peeked.Value.Target.Ref, Is.EqualTo(o.Ref));
            Assert.That(peeked.Value.Callback, Is.SameAs(callback));
            Assert.That(o.RefCount, Is.EqualTo(2), "peek gives a new reference");
        }
        Assert.That(f.Alive, Is.True);
        var detached = f.Detach();
        Assert.That(detached, Is.Not.Null);
        detached!.Value.Target.Dispose();
        Assert.That(detached.Value.Callback, Is.SameAs(callback));
        Assert.That(f.Alive, Is.False);
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero, "a detached finalizer's handle is freed");
        o.Dispose();
        Assert.That(calls, Is.Zero);
    }

    [Test]
    public void ACallbackThatThrows_GoesToCallbackException()
    {
        var seen = new List<Exception>();
        Rt.CallbackException += seen.Add;
        PyOwned o = PyList.New(Rt);
        PyFinalizer.Register(o, () => throw new InvalidOperationException("boom"));
        o.Dispose();
        Assert.That(seen.Select(e => e.Message), Is.EqualTo(new[] { "boom" }));
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero);
    }

    /// <summary>CPython's _exitfunc: the atexit ones newest first, one registered meanwhile too; atexit=False never.</summary>
    [Test]
    public void Dispose_RunsThePendingAtExitFinalizers_NewestFirst()
    {
        var runtime = new PyRuntime();
        var log = new List<string>();
        using PyOwned a = PyList.New(runtime), b = PyList.New(runtime);
        PyFinalizer.Register(a, () => log.Add("1"));
        PyFinalizer.Register(b, () =>
        {
            log.Add("2");
            PyFinalizer.Register(b, () => log.Add("late"));
        });
        PyFinalizer.Register(a, () => log.Add("3"));
        PyFinalizer never = PyFinalizer.Register(b, () => log.Add("never"));
        never.AtExit = false;
        Assert.That(never.AtExit, Is.False);
        runtime.Dispose();
        Assert.That(log, Is.EqualTo(new[] { "3", "2", "late", "1" }));
        Assert.That(() => never.Alive, Throws.TypeOf<ObjectDisposedException>());
        Assert.That(runtime.RegisteredCallbackHandles, Is.Zero);
    }

    [Test]
    public void Register_RefusesNull()
    {
        Assert.That(() => PyFinalizer.Register(default, () => { }), Throws.TypeOf<PyAllocException>());
        using PyOwned o = PyList.New(Rt);
        Assert.That(() => PyFinalizer.Register(o, null!), Throws.TypeOf<ArgumentNullException>());
    }
}
