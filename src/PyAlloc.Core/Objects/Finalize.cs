using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Objects;

/* ============================================================================
   weakref.finalize (CPython's Lib/weakref.py, class finalize)

   A registration of cb(user) on an object's death that the caller does not
   have to keep anything for.  As in CPython, the registry is what keeps it:
   each runtime has a table (Entries: handle -> Entry*, a PointerMap keyed by
   the handle as a pointer-sized integer) and every entry owns a reference to
   a weakref with a callback (OnTargetDeath, the handle as its user pointer).
   The registry's reference is not a GC object's, so the collector always
   finds the weakref reachable and its callback runs even when the target
   dies in a cycle.

   Handles are 1, 2, 3, ... per runtime, never reused, so a stale handle is
   simply "not alive" (CPython's finalize object that was called or
   detached), never a dangling pointer.  The handle order is CPython's
   finalize._index: pa_runtime_free runs the pending atexit finalizers
   newest first (finalize._exitfunc pops the sorted list from its end),
   with automatic collection off, taking in the finalizers those callbacks
   register; then Shutdown is set and no finalizer runs any more (a target
   that dies in the final collection drops its entry without a call, as
   finalize._shutdown does).
============================================================================ */

/// <summary>One pending finalizer.</summary>
internal unsafe struct FinalizeEntry
{
    public nuint Handle;
    public PaObject* Weakref;                       // owned reference; its callback is OnTargetDeath
    public delegate* unmanaged<void*, void> Callback;
    public void* User;
    public bool AtExit;
}

/// <summary>A runtime's finalizers (weakref.finalize._registry).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FinalizeRegistry
{
    public PointerMap Entries;   // handle -> FinalizeEntry*
    public nuint LastHandle;
    public bool Dirty;           // a finalizer was registered since RunAtExit last looked
    public bool Shutdown;        // after RunAtExit: finalizers are dropped, never called
    public int Calling;          // finalizer callbacks running now (pa_runtime_free refuses meanwhile)

    /// <summary>
    /// pa_finalize_register: a new handle (above 0), or 0 with an error (a dying target, a NULL
    /// callback, no memory).
    /// </summary>
    /// <remarks>Pre: target is a live object.</remarks>
    public static nuint Register(PaObject* target, delegate* unmanaged<void*, void> callback, void* user)
    {
        if (!WeakrefObject.CheckTarget(target, "pa_finalize_register"))
            return 0;
        if (callback == null)
        {
            Errors.Set("pa_finalize_register: cb is NULL");
            return 0;
        }
        Runtime* rt = target->ObType->Runtime;
        FinalizeRegistry* reg = &rt->Finalizers;
        nuint handle = reg->LastHandle + 1;
        var entry = (FinalizeEntry*)NativeMemory.AllocZeroed((nuint)sizeof(FinalizeEntry));
        if (entry == null)
            return OutOfMemory();
        PaObject* wr = WeakrefObject.New(target, &OnTargetDeath, (void*)handle);
        if (wr == null)
        {
            NativeMemory.Free(entry);
            return 0;   // the error is set
        }
        *entry = new FinalizeEntry { Handle = handle, Weakref = wr, Callback = callback, User = user, AtExit = true };
        if (!reg->Entries.Set((void*)handle, (nuint)entry))
        {
            NativeMemory.Free(entry);
            RefCount.Decref(wr);
            return OutOfMemory();
        }
        reg->LastHandle = handle;
        reg->Dirty = true;
        return handle;
    }

    private static nuint OutOfMemory()
    {
        Errors.Set("pa_finalize_register: out of memory");
        return 0;
    }

    /// <summary>The pending entry of <paramref name="handle"/>, or null (called, detached, never made).</summary>
    public static FinalizeEntry* Find(Runtime* rt, nuint handle) =>
        handle == 0 ? null : (FinalizeEntry*)rt->Finalizers.Entries.Get((void*)handle);

    /// <summary>finalize.__call__: if pending, unregister and call cb(user) (unless at shutdown).</summary>
    /// <returns>Whether the callback was called.</returns>
    public static bool Call(Runtime* rt, nuint handle)
    {
        FinalizeEntry* entry = Find(rt, handle);
        if (entry == null)
            return false;
        FinalizeEntry copy = *entry;
        Drop(rt, entry);
        bool call = !rt->Finalizers.Shutdown;
        if (call)
        {
            rt->Finalizers.Calling++;
            try
            {
                copy.Callback(copy.User);
            }
            finally
            {
                rt->Finalizers.Calling--;
            }
        }
        RefCount.Decref(copy.Weakref);   // after the call, as CPython's info lives through it
        return call;
    }

    /// <summary>
    /// finalize.peek (detach: false) / finalize.detach (detach: true): while pending and the target
    /// alive, the target as a new reference; null otherwise (nothing changes then).
    /// </summary>
    public static PaObject* Peek(Runtime* rt, nuint handle, bool detach, out FinalizeEntry found)
    {
        found = default;
        FinalizeEntry* entry = Find(rt, handle);
        if (entry == null)
            return null;
        PaObject* target = WeakrefObject.Get(entry->Weakref);
        if (target == null)
            return null;
        found = *entry;
        if (detach)
        {
            Drop(rt, entry);
            RefCount.Decref(found.Weakref);
        }
        return target;
    }

    /// <summary>
    /// pa_finalize_peek (detach: false) / pa_finalize_detach (detach: true): <see cref="Peek(Runtime*, nuint, bool, out FinalizeEntry)"/>
    /// into the caller's out-parameters, each of which may be null (a target not asked for is released).
    /// </summary>
    /// <returns>1 with the outs filled while pending and the target alive; 0 otherwise (nothing written).</returns>
    public static int Peek(Runtime* rt, nuint handle, bool detach, PaObject** target, void** callback, void** user)
    {
        PaObject* o = Peek(rt, handle, detach, out FinalizeEntry entry);
        if (o == null)
            return 0;
        if (target != null)
            *target = o;
        else
            RefCount.Decref(o);
        if (callback != null)
            *callback = entry.Callback;
        if (user != null)
            *user = entry.User;
        return 1;
    }

    /// <summary>finalize.alive: whether <paramref name="handle"/> is pending.</summary>
    public static bool IsAlive(Runtime* rt, nuint handle) => Find(rt, handle) != null;

    /// <summary>finalize.atexit (get): 1 when pending and set, 0 otherwise (also when not alive).</summary>
    public static int GetAtExit(Runtime* rt, nuint handle)
    {
        FinalizeEntry* entry = Find(rt, handle);
        return entry != null && entry->AtExit ? 1 : 0;
    }

    /// <summary>finalize.atexit (set): 1 when set, 0 when not alive (nothing to set, as CPython).</summary>
    public static int SetAtExit(Runtime* rt, nuint handle, bool atexit)
    {
        FinalizeEntry* entry = Find(rt, handle);
        if (entry == null)
            return 0;
        entry->AtExit = atexit;
        return 1;
    }

    /* Out of the table; the weakref reference is the caller's to drop. */
    private static void Drop(Runtime* rt, FinalizeEntry* entry)
    {
        rt->Finalizers.Entries.Remove((void*)entry->Handle);
        NativeMemory.Free(entry);
    }

    /* The finalizer weakref's callback: the target died. */
    [UnmanagedCallersOnly]
    private static void OnTargetDeath(PaObject* weakref, void* user)
    {
        try
        {
            Call(weakref->ObType->Runtime, (nuint)user);
        }
        catch (System.Exception e)
        {
            Errors.SetInternal("weakref.finalize callback", e);
        }
    }

    /// <summary>
    /// finalize._exitfunc, for pa_runtime_free: the pending atexit finalizers, newest first, including those
    /// registered meanwhile; then Shutdown.
    /// </summary>
    /// <remarks>Pre: rt->Freeing (automatic collection is off).</remarks>
    public static void RunAtExit(Runtime* rt)
    {
        FinalizeRegistry* reg = &rt->Finalizers;
        nuint* pending = null;
        nuint count = 0;
        while (true)
        {
            // Invariants: pending[0..count) are the handles chosen at the last selection not yet
            // called, oldest first; reg->Dirty says whether one was registered since.
            if (pending == null || reg->Dirty)
            {
                NativeMemory.Free(pending);
                pending = SelectForExit(reg, out count);
                reg->Dirty = false;
            }
            if (count == 0)
                break;
            Call(rt, pending[--count]);
        }
        NativeMemory.Free(pending);
        reg->Shutdown = true;
    }

    /* _select_for_exit: the atexit handles, oldest first (malloc'd; never null). */
    private static nuint* SelectForExit(FinalizeRegistry* reg, out nuint count)
    {
        var selection = new Selection
        {
            Handles = (nuint*)NativeMemory.Alloc(reg->Entries.Count + 1, (nuint)sizeof(nuint)),
        };
        if (selection.Handles == null)
            Fatal.Error("pa_runtime_free: out of memory running the atexit finalizers");
        reg->Entries.ForEach(&SelectOne, &selection);
        System.MemoryExtensions.Sort(new System.Span<nuint>(selection.Handles, checked((int)selection.Count)));
        count = selection.Count;
        return selection.Handles;
    }

    private struct Selection
    {
        public nuint* Handles;
        public nuint Count;
    }

    private static void SelectOne(void* handle, nuint value, void* state)
    {
        var selection = (Selection*)state;
        if (((FinalizeEntry*)value)->AtExit)
            selection->Handles[selection->Count++] = (nuint)handle;
    }

    /// <summary>Frees the entries (the weakrefs go with the runtime's objects).</summary>
    public static void Dispose(FinalizeRegistry* reg)
    {
        reg->Entries.ForEach(&FreeOne, null);
        reg->Entries.Dispose();
    }

    private static void FreeOne(void* handle, nuint value, void* state) => NativeMemory.Free((void*)value);
}
