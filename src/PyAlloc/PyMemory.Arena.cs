using System;

using PyAlloc.Interop;

namespace PyAlloc;

/* The arena allocator (CPython's PyObject_GetArenaAllocator / PyObject_SetArenaAllocator):
   where the 1 MiB arenas of every heap come from. */
public static unsafe partial class PyMemory
{
    /// <summary>The arena allocator in force (<c>pa_object_get_arena_allocator</c>).</summary>
    /// <returns>Its fields; before any <see cref="SetArenaAllocator(in PaMemArenaAllocator)"/>, the default (anonymous
    /// memory from the OS), whose functions may be called directly, e.g. by a wrapper that counts arenas.</returns>
    public static PaMemArenaAllocator GetArenaAllocator()
    {
        PaMemArenaAllocator a;
        if (NativeMethods.pa_object_get_arena_allocator(&a) != 0)
            ThrowLastError();
        return a;
    }

    /// <summary>Installs a copy of <paramref name="allocator"/> for the arenas taken from now on
    /// (<c>pa_object_set_arena_allocator</c>).</summary>
    /// <param name="allocator">Its functions may be C functions or C# methods marked
    /// <c>[UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]</c>; they run with a heap's lock held, must not
    /// call PyAlloc and must not throw (an exception cannot cross the library: the process ends).</param>
    /// <remarks>Arenas taken before go back to the allocator that made them, whatever is installed then. The default
    /// (what <see cref="GetArenaAllocator"/> first returned) restores the OS. A C# function must not be entered from a
    /// call without the GC transition: once this method has been called, <see cref="Alloc"/>,
    /// <see cref="TryAlloc"/>, <see cref="Free"/> and <see cref="TryFree"/> keep theirs (the raw
    /// <c>NativeMethods.pa_malloc</c> and <c>pa_free</c> never do: do not use them with a C# arena allocator).
    /// Process-wide and thread-safe: an arena is made and given back by one allocator, even when another thread
    /// installs another meanwhile.</remarks>
    /// <exception cref="ArgumentNullException">Its <c>Alloc</c> or <c>Free</c> is null.</exception>
    public static void SetArenaAllocator(in PaMemArenaAllocator allocator)
    {
        if (allocator.Alloc == null)
            throw new ArgumentNullException(nameof(allocator), "the arena allocator's Alloc is null");
        if (allocator.Free == null)
            throw new ArgumentNullException(nameof(allocator), "the arena allocator's Free is null");
        // For good: the allocator may be C#, and its arenas are given back by some later free,
        // even after the default is restored. (Not s_debugHooksOverHook: that one says the debug hooks may be on.)
        s_keepTransition = true;
        s_freeKind = FreeWithTransition;
        PaMemArenaAllocator copy = allocator;
        if (NativeMethods.pa_object_set_arena_allocator(&copy) != 0)
            ThrowLastError();
    }

    /// <summary>As <see cref="SetArenaAllocator(in PaMemArenaAllocator)"/> from its three fields.</summary>
    /// <param name="alloc"><c>alloc(ctx, size)</c>: size bytes, or null when out of memory.</param>
    /// <param name="free"><c>free(ctx, ptr, size)</c>: gives back what alloc returned.</param>
    /// <param name="ctx">Passed to both as is.</param>
    /// <exception cref="ArgumentNullException"><paramref name="alloc"/> or <paramref name="free"/> is null.</exception>
    public static void SetArenaAllocator(delegate* unmanaged[Cdecl]<void*, nuint, void*> alloc,
                                         delegate* unmanaged[Cdecl]<void*, void*, nuint, void> free, void* ctx = null)
    {
        if (alloc == null)
            throw new ArgumentNullException(nameof(alloc));
        if (free == null)
            throw new ArgumentNullException(nameof(free));
        SetArenaAllocator(new PaMemArenaAllocator { Ctx = ctx, Alloc = alloc, Free = free });
    }
}
