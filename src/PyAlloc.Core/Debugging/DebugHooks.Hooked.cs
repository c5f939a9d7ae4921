using System.Runtime.InteropServices;
using System.Threading;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Debugging;

/* ============================================================================
   Debug hooks over a caller's allocator (pa_mem_setup_debug_hooks)

   CPython's PyMem_SetupDebugHooks wraps whatever allocator is installed.
   When the program has installed one with pa_mem_set_allocator, native/entry
   installs in its place an allocator whose functions are the exports
   pa__debug_hook_malloc & co. (DebugExports.cs) and whose ctx is a copy of the
   caller's allocator, the one underneath (a PaMemAllocator, never freed).  Those
   functions come here: each debug block is the layout of DebugHooks.cs, its
   raw block asked of the allocator underneath (n + 4S bytes).

   HookedBlocks remembers every such raw block: its size (the allocator's word
   on how much may be read, as the arena map gives it for pool blocks) and the
   allocator that made it (it is freed there, whatever ctx the freeing call
   carries).  Locate asks it first, because the allocator underneath may well
   take its raw blocks from pa_malloc (a wrapper for accounting forwards to
   the allocator it replaced): such a raw block is also a live pool block,
   and must go back through the caller's allocator, not straight to the pool.

   Calls of the caller's allocator are made without any lock held: it may
   call pa_malloc.  The registry's lock is a leaf (libc malloc only).
============================================================================ */

internal static unsafe partial class DebugHooks
{
    /// <summary>pa__debug_hook_malloc/calloc: a debug block over <paramref name="under"/>; null when it gave none.</summary>
    /// <remarks>As CPython's _PyMem_DebugRawAlloc: a zeroed block comes from the allocator's calloc.</remarks>
    public static void* HookedAlloc(PaMemAllocator* under, nuint n, bool zero)
    {
        if (n > Pymalloc.MaxRequest - Overhead)
            return null;
        byte* raw = HookedBlocks.Allocate(under, n + Overhead, zero);
        return raw == null ? null : Decorate(raw, n, ApiMalloc, NextSerial(), zero);
    }

    /// <summary>pa__debug_hook_calloc: a zeroed debug block of nelem * elsize bytes over <paramref name="under"/>.</summary>
    /// <remarks>Null, as calloc, when the product overflows or the allocator gave none.</remarks>
    public static void* HookedCalloc(PaMemAllocator* under, nuint nelem, nuint elsize)
    {
        nuint n = nelem * elsize;
        if (elsize != 0 && n / elsize != nelem)
            return null;
        return HookedAlloc(under, n, zero: true);
    }

    /// <summary>pa__debug_hook_free: checks and frees a debug block made over a caller's allocator.</summary>
    /// <remarks>Reported as pa_free reports (a block of PyAlloc's own default allocator, too, is refused).</remarks>
    public static void HookedFree(void* p)
    {
        if (p == null)
            return;
        Found found = Locate((byte*)p, out Block block);
        if (found == Found.Live && block.Under == null)
        {
            // Live, but not made over a caller's allocator: "not a live block of this allocator".
            found = Found.Nothing;
            block = default;
        }
        if (found != Found.Live)
        {
            ReportNotLive((byte*)p, found, block, "pa_free");
            return;
        }
        Damage damage = Verify(block, ApiMalloc);
        if (damage != Damage.None)
        {
            ReportDamage(block, damage, ApiMalloc, "pa_free");
            return;
        }
        Release(block);
    }

    /// <summary>pa__debug_hook_realloc: as <see cref="Realloc"/>, over <paramref name="under"/>.</summary>
    /// <returns>The block, or null: reported (nothing changed), or the allocator underneath gave none.</returns>
    public static void* HookedRealloc(PaMemAllocator* under, void* p, nuint n)
    {
        if (p == null)
            return HookedAlloc(under, n, zero: false);
        if (!IsLiveAndIntact(p, ApiMalloc, "pa_realloc", out Block block))
            return null;
        if (block.Under == null)
        {
            ReportNotLive((byte*)p, Found.Nothing, default, "pa_realloc");
            return null;
        }
        if (n > Pymalloc.MaxRequest - Overhead)
            return null;
        return ReallocHooked(block, n, ReadSize(block.Base), out _);
    }

    /* Realloc of a block over a caller's allocator: its realloc, as CPython's
       _PyMem_DebugRawRealloc calls the allocator underneath.  Pre: block passed Verify.
       The old raw block is forgotten before the call (it may be freed by it) and remembered
       again when the call fails (the old block stays). */
    private static void* ReallocHooked(in Block block, nuint n, ulong old, out bool outOfMemory)
    {
        outOfMemory = false;
        nuint total = n + Overhead;
        PaMemAllocator* under = block.Under;
        HookedBlocks.Forget(block.Base);
        byte* raw = (byte*)under->Realloc(under->Ctx, block.Base, total);
        if (raw == null || !HookedBlocks.Remember(raw, total, under))
        {
            if (raw != null)
                under->Free(under->Ctx, raw);   // the registry is out of memory: the data is lost with it
            else
                HookedBlocks.Remember(block.Base, block.RawSize, under);
            outOfMemory = true;
            return null;
        }
        byte* data = raw + HeadBytes;
        WriteSize(raw, n);
        if (n > old)
            NativeMemory.Fill(data + old, n - (nuint)old, CleanByte);
        NativeMemory.Fill(data + n, S, ForbiddenByte);
        WriteSize(data + n + S, NextSerial());
        return data;
    }

    /// <summary>The raw blocks of caller's allocators under the debug hooks: size and maker by address.</summary>
    private static class HookedBlocks
    {
        private static NativeLock s_lock;
        private static PointerMap s_sizes;     // raw block -> bytes asked of its allocator
        private static PointerMap s_makers;    // raw block -> PaMemAllocator*
        private static int s_active;           // 1 once a block was made: Locate asks the registry

        /// <summary>True once a debug block was made over a caller's allocator.</summary>
        public static bool Active => Volatile.Read(ref s_active) != 0;

        internal static void LockForFork() => s_lock.Enter();
        internal static void UnlockAfterFork() => s_lock.Exit();

        public static byte* Allocate(PaMemAllocator* under, nuint total, bool zero)
        {
            Volatile.Write(ref s_active, 1);
            byte* raw = zero ? (byte*)under->Calloc(under->Ctx, 1, total) : (byte*)under->Malloc(under->Ctx, total);
            if (raw != null && !Remember(raw, total, under))
            {
                under->Free(under->Ctx, raw);
                return null;
            }
            return raw;
        }

        public static bool Remember(byte* raw, nuint total, PaMemAllocator* under)
        {
            s_lock.Enter();
            bool ok = s_sizes.Set(raw, total);
            if (ok && !s_makers.Set(raw, (nuint)under))
            {
                s_sizes.Remove(raw);
                ok = false;
            }
            s_lock.Exit();
            return ok;
        }

        public static bool Find(byte* raw, out nuint total, out PaMemAllocator* under)
        {
            total = 0;
            under = null;
            if (!Active)
                return false;
            s_lock.Enter();
            total = s_sizes.Get(raw);
            if (total != 0)
                under = (PaMemAllocator*)s_makers.Get(raw);
            s_lock.Exit();
            return total != 0;
        }

        public static void Forget(byte* raw)
        {
            s_lock.Enter();
            s_sizes.Remove(raw);
            s_makers.Remove(raw);
            s_lock.Exit();
        }

        /// <summary>Gives <paramref name="raw"/> back to the allocator that made it.</summary>
        public static void Free(PaMemAllocator* under, byte* raw)
        {
            Forget(raw);
            under->Free(under->Ctx, raw);
        }
    }
}
