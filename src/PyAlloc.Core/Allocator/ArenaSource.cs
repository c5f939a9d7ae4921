using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Allocator;

/* ============================================================================
   Where arena memory comes from: CPython's PyObject_SetArenaAllocator

   An arena source is the triple (ctx, alloc, free) of pa_mem_arena_allocator
   (include/pyalloc.h, section 2).  The one in force is s_current: null for the
   default, the OS (OsMemory.MapAligned / Unmap, which may release pages with
   madvise); otherwise a Source record built by Install.

   Records are immutable and never freed: an arena remembers the record that
   made it (ArenaObject.Source) and gives its memory back through that
   record's free, however many allocators were installed since.  Install
   reuses the record of an equal triple, so the records number the distinct
   allocators ever installed (32 bytes each).  No lock: a record is whole
   before a compare-and-swap publishes it, so nothing is held across fork.

   Alignment.  Arenas must sit on 1 MiB boundaries (Types.cs, "Why arenas
   are aligned"); a caller's alloc may return any address.  NewArena asks for
   1 MiB; when the memory is not aligned it gives it back and asks for 2 MiB,
   which always holds an aligned 1 MiB.  The arena remembers the raw pointer
   and size (ArenaObject.RawAddress, RawSize) and gives back exactly those.

   Thread safety.  Install publishes a whole record with one volatile write;
   NewArena reads s_current once and uses that record for the alloc, any
   retry and (later) the free: an arena never mixes two allocators.

   Invariants:
     - ArenaObject.Source == null  <=>  the arena was mapped by OsMemory.MapAligned,
       RawAddress == Address, RawSize == ArenaSize;
     - Source != null  =>  Address is the 1 MiB-aligned part of RawAddress..+RawSize,
       obtained by one call Source->Alloc(Source->Ctx, RawSize).
============================================================================ */

/// <summary>The arena allocator in force and the records of those installed before.</summary>
internal static unsafe class ArenaSource
{
    /// <summary>One installed allocator.</summary>
    public struct Source
    {
        public PaMemArenaAllocator F;
        public Source* Next;      // every record ever made, newest first
    }

    private const nuint ArenaSize = Geometry.ArenaSize;

    private static nint s_current;      // Source*, read and written whole (Volatile); 0: the OS
    private static nint s_records;      // Source*: pushed with a compare-and-swap, never popped

    /// <summary>The default allocator's alloc: anonymous memory from the OS, 1 MiB-aligned when
    /// <paramref name="size"/> is a multiple of 1 MiB; null (errno ENOMEM) when refused.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static void* DefaultAlloc(void* ctx, nuint size)
    {
        if (size == 0)
            return null;
        return size % ArenaSize == 0 ? OsMemory.MapAligned(size, ArenaSize) : OsMemory.Map(size);
    }

    /// <summary>The default allocator's free: unmaps what <see cref="DefaultAlloc"/> mapped.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static void DefaultFree(void* ctx, void* p, nuint size)
    {
        if (p != null && size != 0)
            OsMemory.Unmap(p, size);
    }

    /// <summary>The allocator in force (the default's functions when none was installed).</summary>
    public static PaMemArenaAllocator Get()
    {
        Source* s = (Source*)Volatile.Read(ref s_current);
        return s != null ? s->F : new PaMemArenaAllocator { Alloc = &DefaultAlloc, Free = &DefaultFree };
    }

    /// <summary>
    /// <c>pa_object_set_arena_allocator</c>: <see cref="Install"/> of <paramref name="allocator"/>
    /// after the checks of the call's contract (the pointer and both functions not null).
    /// </summary>
    /// <returns>0, or -1 with the error set (a NULL, or no memory for the record).</returns>
    public static int Set(PaMemArenaAllocator* allocator)
    {
        const string caller = "pa_object_set_arena_allocator";
        if (allocator == null)
            return Errors.Fail($"{caller}: allocator is NULL");
        if (allocator->Alloc == null || allocator->Free == null)
            return Errors.Fail($"{caller}: {(allocator->Alloc == null ? "alloc" : "free")} is NULL");
        return Install(*allocator) ? 0 : Errors.Fail($"{caller}: out of memory");
    }

    /// <summary>Installs a copy of <paramref name="f"/> for the arenas mapped from now on.</summary>
    /// <returns>False when memory for the record ran out.</returns>
    /// <remarks>
    /// Pre: alloc and free are not null. The default's functions (whatever ctx) restore the OS,
    /// with its page release. Arenas made earlier keep going back to the allocator that made them.
    /// </remarks>
    public static bool Install(in PaMemArenaAllocator f)
    {
        if ((void*)f.Alloc == (void*)(delegate* unmanaged[Cdecl]<void*, nuint, void*>)&DefaultAlloc
            && (void*)f.Free == (void*)(delegate* unmanaged[Cdecl]<void*, void*, nuint, void>)&DefaultFree)
        {
            Volatile.Write(ref s_current, 0);
            return true;
        }
        // No lock (none to hold across fork): two threads installing the same new triple at
        // once may make two records of it, which costs 32 bytes and nothing else.
        Source* s = FindRecord(f);
        if (s == null)
        {
            s = (Source*)NativeMemory.Alloc((nuint)sizeof(Source));
            if (s == null)
                return false;
            s->F = f;
            nint head;
            do
            {
                // Invariants: s is whole; only its link changes until it is published.
                head = Volatile.Read(ref s_records);
                s->Next = (Source*)head;
            }
            while (Interlocked.CompareExchange(ref s_records, (nint)s, head) != head);
        }
        Volatile.Write(ref s_current, (nint)s);
        return true;
    }

    private static Source* FindRecord(in PaMemArenaAllocator f)
    {
        for (Source* s = (Source*)Volatile.Read(ref s_records); s != null; s = s->Next)
        {
            // Invariants: no record before s has this triple.
            if (s->F.Ctx == f.Ctx && (void*)s->F.Alloc == (void*)f.Alloc && (void*)s->F.Free == (void*)f.Free)
                return s;
        }
        return null;
    }

    /// <summary>The 1 MiB-aligned memory of a new arena, from the allocator in force.</summary>
    /// <returns>Null when out of memory (errno ENOMEM). Otherwise the aligned base, with
    /// <paramref name="source"/>, <paramref name="raw"/> and <paramref name="rawSize"/> to give it back
    /// (<see cref="Release"/>).</returns>
    public static byte* Acquire(out Source* source, out byte* raw, out nuint rawSize)
    {
        Source* s = (Source*)Volatile.Read(ref s_current);
        source = s;
        rawSize = ArenaSize;
        if (s == null)
            return raw = OsMemory.MapAligned(ArenaSize, ArenaSize);

        raw = (byte*)s->F.Alloc(s->F.Ctx, ArenaSize);
        if (raw != null && !IsAligned(raw))
        {
            s->F.Free(s->F.Ctx, raw, ArenaSize);
            rawSize = 2 * ArenaSize;
            raw = (byte*)s->F.Alloc(s->F.Ctx, rawSize);
        }
        if (raw == null)
        {
            OsMemory.SetErrno(Libc.ENOMEM);
            return null;
        }
        return (byte*)(((nuint)raw + ArenaSize - 1) & ~(ArenaSize - 1));
    }

    /// <summary>Gives an arena's memory back to the allocator that made it.</summary>
    /// <remarks>Pre: the arguments are what <see cref="Acquire"/> returned for it.</remarks>
    public static void Release(Source* source, byte* raw, nuint rawSize)
    {
        if (source == null)
            OsMemory.Unmap(raw, rawSize);
        else
            source->F.Free(source->F.Ctx, raw, rawSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsAligned(byte* p) => ((nuint)p & (ArenaSize - 1)) == 0;
}
