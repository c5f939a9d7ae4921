using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   Weak references (CPython's Objects/weakrefobject.c)

   A weakref is a GC object that points at its target without owning a
   count.  The weakrefs to one object form a doubly linked list whose head
   the runtime keeps in its Weakrefs table (object -> first weakref); the
   target's GC head carries the Weakrefs flag while the list is not empty,
   so a death without weakrefs never looks in the table.

   List order as CPython's (weakrefobject.c's get_basic_refs, insert_head,
   insert_after): the shared callback-less weakref first, then the shared
   callback-less proxy, then the weakrefs and proxies with callbacks, newest
   first (each is inserted right after the basic ones), so the newest
   callback runs first and weakref.getweakrefs lists them in that order.

   Proxies (weakref.proxy) are weakrefs of a second type of the runtime
   ("weakproxy", Runtime.ProxyType, the same TypeKind.Weakref so the
   collector and the deaths treat both alike); dereferencing a dead proxy is
   an error (CPython's ReferenceError), a dead weakref merely gives NULL.

   Clearing: when the target dies by count, every weakref is cleared first
   and the callbacks run afterwards, each with its weakref (CPython's
   PyObject_ClearWeakRefs); the collector clears weakrefs to unreachable
   objects itself (Collector.HandleWeakrefs).  A cleared weakref's target
   is null: pa_weakref_get returns NULL from then on.
============================================================================ */

/// <summary>The layout of a weakref object.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct WeakrefObject
{
    public PaObject Base;
    public PaObject* Target;                                   // null once cleared
    public WeakrefObject* Prev;
    public WeakrefObject* Next;
    public delegate* unmanaged<PaObject*, void*, void> Callback;
    public void* User;

    /// <summary>The runtime's weakref type.</summary>
    public static TypeObject* CreateType(Runtime* rt) =>
        CreateType(rt, (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("weakref"u8)));

    /// <summary>The runtime's weak proxy type (same layout, same kind).</summary>
    public static TypeObject* CreateProxyType(Runtime* rt) =>
        CreateType(rt, (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("weakproxy"u8)));

    private static TypeObject* CreateType(Runtime* rt, byte* name)
    {
        PaTypeSpec spec = default;
        spec.Name = name;
        spec.Basicsize = (nuint)sizeof(WeakrefObject);
        spec.Flags = TypeObject.FlagHaveGc;
        spec.Traverse = (delegate* unmanaged[Cdecl]<PaObject*, delegate* unmanaged[Cdecl]<PaObject*, void*, int>, void*, int>)1; // placeholder: weakrefs are traversed in C# (nothing to visit)
        TypeObject* t = TypeObject.Create(rt, &spec, TypeKind.Weakref);
        if (t != null)
            t->Traverse = null;
        return t;
    }

    public static bool Check(PaObject* o) => o != null && o->ObType->Kind == TypeKind.Weakref;

    /// <summary>The first weakref to <paramref name="target"/>, or null.</summary>
    public static WeakrefObject* Head(Runtime* rt, PaObject* target) =>
        GcHead.Of(target)->HasWeakrefs ? (WeakrefObject*)rt->Weakrefs.Get(target) : null;

    /// <summary>Whether <paramref name="o"/> (a weakref) is a proxy.</summary>
    public static bool IsProxy(PaObject* o) => o->ObType == o->ObType->Runtime->ProxyType;

    /// <summary>True when <paramref name="o"/> is a proxy (pa_weakref_proxy_check).</summary>
    public static bool IsWeakproxy(PaObject* o) => Check(o) && IsProxy(o);

    /* get_basic_refs: the shared callback-less weakref and proxy at the head of the list. */
    private static void GetBasicRefs(WeakrefObject* head, out WeakrefObject* basicRef, out WeakrefObject* basicProxy)
    {
        basicRef = basicProxy = null;
        if (head == null || head->Callback != null)
            return;
        if (!IsProxy(&head->Base))
        {
            basicRef = head;
            head = head->Next;
        }
        if (head != null && head->Callback == null && IsProxy(&head->Base))
            basicProxy = head;
    }

    /// <summary>
    /// pa_weakref_new / pa_weakref_proxy_new: a new reference to a (possibly shared) weakref or proxy.
    /// </summary>
    /// <returns>The weakref, or null with the error set (a dying target, no memory).</returns>
    /// <remarks>Pre: target is live. Post: the new weakref sits where CPython's
    /// weakref___new__ / PyWeakref_NewProxy put it (see the top of this file).</remarks>
    public static PaObject* New(PaObject* target, delegate* unmanaged<PaObject*, void*, void> callback, void* user,
                                bool proxy = false)
    {
        if (!CheckTarget(target, proxy ? "pa_weakref_proxy_new" : "pa_weakref_new"))
            return null;
        Runtime* rt = target->ObType->Runtime;
        GetBasicRefs(Head(rt, target), out WeakrefObject* basicRef, out WeakrefObject* basicProxy);
        WeakrefObject* shared = proxy ? basicProxy : basicRef;
        if (callback == null && shared != null)
        {
            RefCount.Incref(&shared->Base);
            return &shared->Base;
        }
        // May run a collection; the caller's reference keeps target alive through it.
        string caller = proxy ? "pa_weakref_proxy_new" : "pa_weakref_new";
        WeakrefObject* wr = (WeakrefObject*)Lifecycle.New(proxy ? rt->ProxyType : rt->WeakrefType, 0, caller);
        if (wr == null)
            return null;
        wr->Target = target;
        wr->Callback = callback;
        wr->User = user;
        WeakrefObject* head = Head(rt, target);
        GetBasicRefs(head, out basicRef, out basicProxy); // the collection may have changed them
        WeakrefObject* prev = callback == null ? (proxy ? basicRef : null) : (basicProxy != null ? basicProxy : basicRef);
        if (prev != null)
        {
            InsertAfter(wr, prev);
            return &wr->Base;
        }
        if (!rt->Weakrefs.Set(target, (nuint)wr))
        {
            wr->Target = null;
            RefCount.Decref(&wr->Base);
            return (PaObject*)Errors.Null($"{caller}: out of memory");
        }
        wr->Next = head;
        if (head != null)
            head->Prev = wr;
        GcHead.Of(target)->Prev |= GcHead.PrevMaskWeakrefs;
        return &wr->Base;
    }

    /// <summary>
    /// True when the live object <paramref name="target"/> may get a weak reference: its count is not 0
    /// (a weak reference to a dying object would outlive it); else false with the error set.
    /// </summary>
    public static bool CheckTarget(PaObject* target, string caller)
    {
        if (target->ObRefcnt != 0)
            return true;
        Errors.Set($"{caller}: target {Errors.Hex(target)} is dying (its count is 0): a weak reference to it would outlive it");
        return false;
    }

    private static void InsertAfter(WeakrefObject* wr, WeakrefObject* prev)
    {
        wr->Prev = prev;
        wr->Next = prev->Next;
        if (prev->Next != null)
            prev->Next->Prev = wr;
        prev->Next = wr;
    }

    /// <summary>
    /// weakref.getweakrefs(target): the weakrefs and proxies in list order, as new references into
    /// out[0..cap); returns how many there are in all.
    /// </summary>
    public static nuint GetWeakrefs(PaObject* target, PaObject** output, nuint cap)
    {
        nuint total = 0;
        for (WeakrefObject* wr = Head(target->ObType->Runtime, target); wr != null; wr = wr->Next)
        {
            // Invariants: out[0..min(total, cap)) hold new references to the weakrefs before wr.
            if (total < cap)
            {
                RefCount.Incref(&wr->Base);
                output[total] = &wr->Base;
            }
            total++;
        }
        return total;
    }

    /// <summary>Dereferencing a proxy: the target as a new reference, or null with CPython's ReferenceError text.</summary>
    public static PaObject* ProxyGet(PaObject* proxy)
    {
        PaObject* target = Get(proxy);
        return target != null ? target
            : (PaObject*)Errors.Null("pa_weakref_proxy_get: weakly-referenced object no longer exists");
    }

    /// <summary>pa_weakref_get: the target as a new reference, or null once cleared.</summary>
    public static PaObject* Get(PaObject* o)
    {
        PaObject* target = ((WeakrefObject*)o)->Target;
        // A target whose count reached zero is dying (the trashcan may have deferred it):
        // it must not be handed out again (CPython's gh-60806 guard).
        if (target == null || target->ObRefcnt <= 0)
            return null;
        RefCount.Incref(target);
        return target;
    }

    /// <summary>weakref.getweakrefcount.</summary>
    public static nuint Count(PaObject* target)
    {
        nuint n = 0;
        for (WeakrefObject* wr = Head(target->ObType->Runtime, target); wr != null; wr = wr->Next)
            n++;
        return n;
    }

    /// <summary>
    /// Takes the weakref out of its target's list and clears its target (CPython's
    /// _PyWeakref_ClearRef: the callback stays). A no-op for a cleared weakref.
    /// </summary>
    public static void Unlink(PaObject* o)
    {
        WeakrefObject* wr = (WeakrefObject*)o;
        PaObject* target = wr->Target;
        if (target == null)
            return;
        if (wr->Prev != null)
        {
            wr->Prev->Next = wr->Next;
        }
        else
        {
            Runtime* rt = target->ObType->Runtime;
            if (wr->Next != null)
            {
                rt->Weakrefs.Set(target, (nuint)wr->Next); // replaces: cannot fail
            }
            else
            {
                rt->Weakrefs.Remove(target);
                GcHead.Of(target)->Prev &= ~GcHead.PrevMaskWeakrefs;
            }
        }
        if (wr->Next != null)
            wr->Next->Prev = wr->Prev;
        wr->Target = null;
        wr->Prev = wr->Next = null;
    }

    /// <summary>The weakref's tp_clear: cleared, and its callback forgotten.</summary>
    public static void ClearForCollector(PaObject* o)
    {
        Unlink(o);
        ((WeakrefObject*)o)->Callback = null;
    }

    private struct PendingCallback
    {
        public WeakrefObject* Weakref;
        public delegate* unmanaged<PaObject*, void*, void> Callback;
        public void* User;
    }

    /// <summary>
    /// Clears every weakref to the dying <paramref name="target"/>; with
    /// <paramref name="callCallbacks"/>, then calls their callbacks (PyObject_ClearWeakRefs).
    /// </summary>
    public static void ClearAll(Runtime* rt, PaObject* target, bool callCallbacks)
    {
        if (!callCallbacks)
        {
            for (WeakrefObject* wr = Head(rt, target); wr != null; wr = Head(rt, target))
                Unlink(&wr->Base);
            return;
        }
        nuint count = Count(target);
        PendingCallback one;
        PendingCallback* pending = count == 1 ? &one
            : (PendingCallback*)NativeMemory.Alloc(count, (nuint)sizeof(PendingCallback));
        nuint n = 0;
        for (WeakrefObject* wr = Head(rt, target); wr != null; wr = Head(rt, target))
        {
            // Invariants: the weakrefs before wr are cleared and, when alive with a
            // callback, recorded in pending[0..n) holding a reference each.
            if (pending != null && wr->Callback != null && wr->Base.ObRefcnt > 0)
            {
                RefCount.Incref(&wr->Base);
                pending[n++] = new PendingCallback { Weakref = wr, Callback = wr->Callback, User = wr->User };
            }
            wr->Callback = null;
            Unlink(&wr->Base);
        }
        for (nuint i = 0; i < n; i++)
        {
            pending[i].Callback(&pending[i].Weakref->Base, pending[i].User);
            RefCount.Decref(&pending[i].Weakref->Base);
        }
        if (pending != &one)
            NativeMemory.Free(pending);
    }
}
