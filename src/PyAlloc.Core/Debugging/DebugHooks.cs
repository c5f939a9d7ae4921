using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;
using PyAlloc.Core.Tracing;

namespace PyAlloc.Core.Debugging;

/* ============================================================================
   Debug hooks: CPython's PYTHONMALLOC=debug

   With PYALLOC_MALLOC=debug (over pymalloc's pools) or malloc_debug (over
   the system allocator), every block handed out, by pa_malloc & co. and by
   a runtime for its objects, is wrapped the way CPython 3.12's obmalloc.c
   wraps it (_PyMem_DebugRawAlloc).  With S = sizeof(size_t) = 8, the raw
   block asked of the allocator underneath is n + 4S bytes:

       base[0, S)          n, the size requested, big-endian (easy to read in a dump)
       base[S]             the API id: 'm' for pa_malloc & co., 'o' for a runtime's
                           object memory (objects and list item arrays)
       base[S+1, 2S)       S-1 copies of FORBIDDENBYTE (0xFD): catch underflow
       base[2S, 2S+n)      the data; the caller gets base + 2S (still 16-byte aligned).
                           Fresh data is CLEANBYTE (0xCD), except that calloc zeroes it.
       base[2S+n, 3S+n)    S copies of FORBIDDENBYTE: catch overflow
       base[3S+n, 4S+n)    the serial number, big-endian: the block was made by the
                           N-th call to debug malloc/realloc (a place for a breakpoint)

   A free (and a realloc, and pa_debug_check_block) checks the block in
   CPython's order: the API id, the leading pad, then the trailing pad (found
   through the size, which is why the front is checked first).  A freed
   block is filled with DEADBYTE (0xDD) before it goes back underneath.

   Where PyAlloc goes beyond CPython: nothing around a pointer is read before
   the allocator has said the raw block is live and how big it is (Locate:
   the arena map and the pool's live bitmap, or the registries of system-
   allocator blocks).  So a foreign pointer, an interior pointer or a freed
   block is recognised without touching memory that may not be ours, a
   damaged size field cannot send the tail check outside the block, and a
   double free is told from other bad pointers by a ring of the last freed
   blocks (their address, size, API and serial number).  For a freed pool
   block, still in an arena of ours, the report shows its data (0xDD).

   A detection builds CPython's report (_PyObject_DebugDumpAddress, then the
   tracemalloc traceback of the allocation or the hint to enable tracemalloc,
   then "Fatal PyAlloc error: <function>: <reason>"), sets the calling
   thread's pa_last_error, and hands the report to Fatal.Report: the default
   handler prints it and aborts.  A handler that returns makes the detecting
   call return without freeing anything (realloc returns NULL and keeps the
   block; pa_debug_check_block returns -1).

   The non-debug modes do not pay for any of this: Pymalloc's and the
   runtimes' fast paths test the mode (or the heap) exactly as before and
   only their out-of-line slow paths come here.

   Threads: the serial number is atomic, the freed ring and the registry of
   runtime blocks from the system allocator have their own locks; everything
   else is the allocator's own locking.
============================================================================ */

/// <summary>Where the raw blocks under debug blocks come from, and the API id they get.</summary>
internal readonly unsafe struct RawDomain
{
    /// <summary>The heap whose pools serve raw blocks up to 512 bytes; null in <c>malloc_debug</c> mode.</summary>
    public readonly Heap* Pools;
    /// <summary>Null for the process allocator (API 'm'); otherwise the runtime (API 'o').</summary>
    public readonly Runtime* Runtime;

    public RawDomain(Heap* pools, Runtime* runtime)
    {
        Pools = pools;
        Runtime = runtime;
    }

    public byte Api => Runtime == null ? DebugHooks.ApiMalloc : DebugHooks.ApiObject;
}

/// <summary>What <see cref="DebugHooks.Check"/> found wrong with a block, in the order CPython checks.</summary>
internal enum Damage
{
    None,
    /// <summary>The API id is not the one the caller expects (wrong API, or overwritten).</summary>
    BadId,
    /// <summary>A leading pad byte is not FORBIDDENBYTE: underflow.</summary>
    BadLeadingPad,
    /// <summary>The size field does not fit the raw block: it was overwritten.</summary>
    BadSize,
    /// <summary>A trailing pad byte is not FORBIDDENBYTE: overflow.</summary>
    BadTrailingPad,
}

/// <summary>CPython's debug allocator over PyAlloc's: layout, checks and reports.</summary>
internal static unsafe partial class DebugHooks
{
    /// <summary>sizeof(size_t): the width of the size and serial fields and of the pads.</summary>
    public const int S = 8;
    /// <summary>Bytes before the data: size, API id, leading pad (2S; defined once, below the hooks, in
    /// <see cref="DebugCalls.HeadBytes"/>, because a runtime steps over them to an object's GC head).</summary>
    public const int HeadBytes = DebugCalls.HeadBytes;
    /// <summary>Bytes a debug block adds to a request.</summary>
    public const int Overhead = 4 * S;

    public const byte ForbiddenByte = 0xFD;
    public const byte CleanByte = 0xCD;
    public const byte DeadByte = 0xDD;
    public const byte ApiMalloc = (byte)'m';
    public const byte ApiObject = (byte)'o';

    private static long s_serial;

    /// <summary>The process allocator's domain (API 'm').</summary>
    public static RawDomain ProcessDomain => new(Pymalloc.RawHeap, null);

    /// <summary>The object memory of <paramref name="rt"/> (API 'o').</summary>
    public static RawDomain ObjectDomain(Runtime* rt) => new(Pymalloc.RawHeap != null ? rt->Heap : null, rt);

    // ================================================================ layout

    /// <summary>Writes <paramref name="n"/> at <paramref name="p"/> as S bytes, big-endian.</summary>
    public static void WriteSize(byte* p, ulong n)
    {
        for (int i = S - 1; i >= 0; i--)
        {
            p[i] = (byte)n;
            n >>= 8;
        }
    }

    /// <summary>The S bytes at <paramref name="p"/> as a big-endian number.</summary>
    public static ulong ReadSize(byte* p)
    {
        ulong n = 0;
        for (int i = 0; i < S; i++)
            n = (n << 8) | p[i];
        return n;
    }

    /// <summary>
    /// Lays a debug block of <paramref name="n"/> bytes out over the raw block at
    /// <paramref name="raw"/> and returns the data pointer (raw + 2S).
    /// </summary>
    /// <remarks>
    /// Pre: raw has at least n + <see cref="Overhead"/> writable bytes.
    /// Post: the layout of the file comment, data all 0xCD (or all 0 when <paramref name="zero"/>).
    /// </remarks>
    public static byte* Decorate(byte* raw, nuint n, byte api, ulong serial, bool zero)
    {
        WriteSize(raw, n);
        raw[S] = api;
        NativeMemory.Fill(raw + S + 1, S - 1, ForbiddenByte);
        byte* data = raw + HeadBytes;
        NativeMemory.Fill(data, n, zero ? (byte)0 : CleanByte);
        NativeMemory.Fill(data + n, S, ForbiddenByte);
        WriteSize(data + n + S, serial);
        return data;
    }

    /// <summary>True when a size field of <paramref name="n"/> fits a raw block of <paramref name="rawSize"/> bytes.</summary>
    public static bool Fits(ulong n, nuint rawSize) => rawSize >= Overhead && n <= rawSize - Overhead;

    /// <summary>
    /// Checks the debug block whose data is at <paramref name="data"/>, in CPython's order:
    /// API id, leading pad, size, trailing pad.
    /// </summary>
    /// <remarks>
    /// Pre: [data - 2S, data - 2S + <paramref name="rawSize"/>) is readable (a live raw block).
    /// Reads nothing outside it, whatever the size field says.
    /// </remarks>
    public static Damage Check(byte* data, nuint rawSize, byte api)
    {
        if (data[-S] != api)
            return Damage.BadId;
        for (int i = S - 1; i >= 1; i--)
        {
            if (data[-i] != ForbiddenByte)
                return Damage.BadLeadingPad;
        }
        ulong n = ReadSize(data - HeadBytes);
        if (!Fits(n, rawSize))
            return Damage.BadSize;
        byte* tail = data + n;
        for (int i = 0; i < S; i++)
        {
            if (tail[i] != ForbiddenByte)
                return Damage.BadTrailingPad;
        }
        return Damage.None;
    }

    // ============================================================ allocation

    private static ulong NextSerial() => (ulong)Interlocked.Increment(ref s_serial);

    /// <summary>
    /// A debug block of <paramref name="n"/> bytes from <paramref name="domain"/>: 0xCD, or
    /// zeroed when <paramref name="zero"/>. Null when out of memory; no error is set.
    /// </summary>
    public static void* Alloc(in RawDomain domain, nuint n, bool zero)
    {
        if (n > Pymalloc.MaxRequest - Overhead)
            return null;
        byte* raw = RawAlloc(domain, n + Overhead);
        if (raw == null)
            return null;
        return Decorate(raw, n, domain.Api, NextSerial(), zero);
    }

    /* A raw block of at least total bytes: from the domain's pools when it fits, else from
       the system allocator, registered so that its owner can be found from its address. */
    private static byte* RawAlloc(in RawDomain domain, nuint total)
    {
        if (domain.Pools != null && total <= Geometry.SmallRequestThreshold)
            return Heap.Allocate(domain.Pools, Geometry.SizeToIndex(total));
        if (domain.Runtime == null)
            return (byte*)LargeBlocks.Allocate(total, zero: false);
        return ObjectBlocks.Allocate(domain.Runtime, total);
    }

    // ================================================================= locate

    /// <summary>A raw block the allocator vouches for: it may be read from Base to Base + RawSize.</summary>
    private struct Block
    {
        public byte* Base;
        public nuint RawSize;
        public Heap* Heap;           // the pool block's heap; null for the system allocator
        public ArenaObject* Arena;   // the pool block's arena
        public Runtime* Owner;       // a runtime's block from the system allocator
        public PaMemAllocator* Under;  // a block of a caller's allocator (HookedBlocks)
        public byte Domain;          // ApiMalloc: the process allocator; ApiObject: a runtime

        public readonly byte* Data => Base + HeadBytes;
    }

    private enum Found
    {
        /// <summary>Nothing of ours: not in an arena, not a registered block.</summary>
        Nothing,
        /// <summary>In an arena of ours, but no block starts at p - 2S.</summary>
        InPool,
        /// <summary>A free block of a carved pool starts at p - 2S (block.Base, block.RawSize set).</summary>
        FreePoolBlock,
        /// <summary>A live raw block: block is filled in.</summary>
        Live,
    }

    /* Finds the live raw block whose data is p, or whose data is p's GC head when p is an
       object of a runtime, without reading memory around p. */
    private static Found Locate(byte* p, out Block block)
    {
        block = default;
        if ((nuint)p < (nuint)(HeadBytes + sizeof(GcHead)))
            return Found.Nothing;
        byte* b = p - HeadBytes;
        // First: a caller's allocator may have taken the raw block from pa_malloc itself.
        if (HookedBlocks.Find(b, out nuint hookedSize, out PaMemAllocator* under))
        {
            block = new Block { Base = b, RawSize = hookedSize, Under = under, Domain = ApiMalloc };
            return Found.Live;
        }
        ArenaObject* arena = ArenaMap.Lookup(b);
        if (arena != null)
        {
            Heap* heap = arena->Heap;
            byte domain = heap == Pymalloc.RawHeap ? ApiMalloc : ApiObject;
            BlockState state = Heap.Probe(heap, arena, b, out uint size);
            if (state == BlockState.Live)
            {
                block = new Block { Base = b, RawSize = size, Heap = heap, Arena = arena, Domain = domain };
                return Found.Live;
            }
            if (domain == ApiObject)
            {
                // An object: its GC head starts the data, so the block starts 2S before that.
                byte* b2 = b - sizeof(GcHead);
                if (ArenaMap.Lookup(b2) == arena && Heap.Probe(heap, arena, b2, out uint size2) == BlockState.Live)
                {
                    block = new Block { Base = b2, RawSize = size2, Heap = heap, Arena = arena, Domain = domain };
                    return Found.Live;
                }
            }
            if (state == BlockState.Free)
            {
                block = new Block { Base = b, RawSize = size, Heap = heap, Arena = arena, Domain = domain };
                return Found.FreePoolBlock;
            }
            return Found.InPool;
        }
        if (LargeBlocks.Contains(b))
        {
            block = new Block { Base = b, RawSize = Libc.MallocUsableSize(b), Domain = ApiMalloc };
            return Found.Live;
        }
        Runtime* owner = ObjectBlocks.OwnerOf(b);
        if (owner == null)
            owner = ObjectBlocks.OwnerOf(b -= sizeof(GcHead));
        if (owner != null)
        {
            block = new Block { Base = b, RawSize = Libc.MallocUsableSize(b), Owner = owner, Domain = ApiObject };
            return Found.Live;
        }
        return Found.Nothing;
    }

    /* Check, plus the allocator's own word: a block of the wrong domain has the wrong API,
       whatever its id byte says. */
    private static Damage Verify(in Block block, byte api)
    {
        Damage damage = Check(block.Data, block.RawSize, api);
        if (damage == Damage.None && block.Domain != api)
            damage = Damage.BadId;
        return damage;
    }

    // =================================================================== free

    /// <summary>
    /// Checks and frees the debug block <paramref name="p"/> of <paramref name="domain"/>; null is a no-op.
    /// </summary>
    /// <remarks>
    /// A damaged block, a block of another API, a freed or foreign pointer is reported
    /// (<see cref="Fatal.Report"/>, pa_last_error set) and, if the handler returns, left alone.
    /// The tracemalloc trace is forgotten after the check (so a report still has it) and
    /// before the raw block is released.
    /// </remarks>
    public static void Free(void* p, in RawDomain domain, string function)
    {
        if (p == null)
            return;
        Found found = Locate((byte*)p, out Block block);
        if (found != Found.Live)
        {
            ReportNotLive((byte*)p, found, block, function);
            return;
        }
        Damage damage = Verify(block, domain.Api);
        if (damage != Damage.None)
        {
            ReportDamage(block, damage, domain.Api, function);
            return;
        }
        if (domain.Runtime != null && (block.Arena != null ? block.Heap != domain.Runtime->Heap : block.Owner != domain.Runtime))
        {
            Fatal.Error($"freeing {Errors.Hex(p)}, which is not a block of this runtime");
            return;
        }
        if (Tracemalloc.IsTracing)
        {
            Tracemalloc.OnFree(block.Data);
            if (block.Domain == ApiObject)
                Tracemalloc.OnFree(block.Data + sizeof(GcHead)); // objects are traced by their address
        }
        Release(block);
    }

    /* Fill the whole debug block with DEADBYTE, remember it, release the raw block.
       Pre: block is live and passed Verify. */
    private static void Release(in Block block)
    {
        ulong n = ReadSize(block.Base);
        Freed.Remember(block.Base, n, block.Base[S], ReadSize(block.Data + n + S));
        NativeMemory.Fill(block.Base, (nuint)n + Overhead, DeadByte);
        if (block.Under != null)
            HookedBlocks.Free(block.Under, block.Base);
        else if (block.Arena != null)
            Heap.Free(block.Heap, block.Arena, block.Base, "debug free");
        else if (block.Domain == ApiMalloc)
            LargeBlocks.Free(block.Base, out _);
        else
            ObjectBlocks.Free(block.Owner, block.Base);
    }

    // ================================================================ realloc

    /// <summary>
    /// pa_realloc's checks of <paramref name="p"/> (live, intact), reported as <see cref="Realloc"/>
    /// reports them; true when p may be reallocated.
    /// </summary>
    /// <remarks>
    /// For the tracer, which must look before it takes the block's trace out (Traced.Realloc): a
    /// damaged block's report then has its allocation traceback, as pa_free's does.
    /// </remarks>
    public static bool CheckBeforeRealloc(void* p) => IsLiveAndIntact(p, ApiMalloc, "pa_realloc", out _);

    /// <summary>
    /// pa_object_gc_resize's check of an object's debug block (<paramref name="gcHead"/>, its data) before
    /// it moves: live, of API 'o' and intact; else reported as a free reports it, and false.
    /// </summary>
    public static bool CheckObjectBlock(void* gcHead, string function) => IsLiveAndIntact(gcHead, ApiObject, function, out _);

    /* The checks before a block is resized: p is a live block of api and intact; else reported
       (as function's). */
    private static bool IsLiveAndIntact(void* p, byte api, string function, out Block block)
    {
        Found found = Locate((byte*)p, out block);
        if (found != Found.Live)
        {
            ReportNotLive((byte*)p, found, block, function);
            return false;
        }
        Damage damage = Verify(block, api);
        if (damage == Damage.None)
            return true;
        ReportDamage(block, damage, api, function);
        return false;
    }

    /// <summary>pa_realloc over the debug hooks (p not null).</summary>
    /// <returns>
    /// The block, in place when its pool block still fits it as pymalloc would keep it, else
    /// moved (the old one freed as by <see cref="Free"/>, its trace left to the caller).
    /// Null when the old block was reported (nothing changed) or, with
    /// <paramref name="outOfMemory"/> set, when memory ran out (the old block is kept).
    /// </returns>
    public static void* Realloc(void* p, nuint n, out bool outOfMemory)
    {
        outOfMemory = false;
        if (!IsLiveAndIntact(p, ApiMalloc, "pa_realloc", out Block block))
            return null;
        if (n > Pymalloc.MaxRequest - Overhead)
        {
            outOfMemory = true;
            return null;
        }
        ulong old = ReadSize(block.Base);
        nuint total = n + Overhead;
        if (block.Under != null)
            return ReallocHooked(block, n, old, out outOfMemory);
        if (block.Arena != null && total <= block.RawSize && 4 * total > 3 * block.RawSize)
        {
            // pymalloc keeps the raw block: rewrite the size, the new tail and a new serial.
            byte* data = block.Data;
            WriteSize(block.Base, n);
            if (n > old)
                NativeMemory.Fill(data + old, n - (nuint)old, CleanByte);
            NativeMemory.Fill(data + n, S, ForbiddenByte);
            WriteSize(data + n + S, NextSerial());
            return data;
        }
        byte* q = (byte*)Alloc(ProcessDomain, n, zero: false);
        if (q == null)
        {
            outOfMemory = true;
            return null;
        }
        Buffer.MemoryCopy(block.Data, q, n, Math.Min(n, (nuint)old));
        Release(block);
        return q;
    }

    // ============================================================ inspection

    /// <summary>pa_usable_size with the hooks on: the size requested; 0 with an error for a bad pointer.</summary>
    /// <remarks>A block of 0 bytes also gives 0: pa_last_error tells the two apart.</remarks>
    public static nuint UsableSize(void* p)
    {
        if (Locate((byte*)p, out Block block) != Found.Live)
        {
            Errors.Set($"pa_usable_size: {Errors.Hex(p)} is not a live block of PyAlloc's debug allocator " +
                       "(never allocated, freed already, or not the start of a block)");
            return 0;
        }
        if (block.Domain != ApiMalloc)
        {
            Errors.Set($"pa_usable_size: {Errors.Hex(p)} belongs to a runtime's object heap: objects are released " +
                       "with pa_decref, not with the allocator's calls");
            return 0;
        }
        ulong n = ReadSize(block.Base);
        if (!Fits(n, block.RawSize))
        {
            Errors.Set($"pa_usable_size: the debug memory block at {Errors.Hex(p)} is damaged (its size field); " +
                       "pa_debug_check_block reports how");
            return 0;
        }
        return (nuint)n;
    }

    /// <summary>
    /// pa_debug_check_block: 0 when the block (of pa_malloc &amp; co., or an object) is intact;
    /// -1 after a report when it is not; -1 with an error when the hooks are off or p is null.
    /// </summary>
    public static int CheckBlock(void* p)
    {
        if (!Pymalloc.DebugHooksOn && !HookedBlocks.Active)
            return Errors.Fail("pa_debug_check_block: the debug hooks are not on " +
                               "(PYALLOC_MALLOC=debug or malloc_debug, pa_set_allocator_mode before the first allocation, " +
                               "or pa_mem_setup_debug_hooks)");
        if (p == null)
            return Errors.Fail("pa_debug_check_block: the pointer is NULL");
        Found found = Locate((byte*)p, out Block block);
        if (found != Found.Live)
        {
            ReportNotLive((byte*)p, found, block, "pa_debug_check_block");
            return -1;
        }
        Damage damage = Verify(block, block.Domain);
        if (damage == Damage.None)
            return 0;
        ReportDamage(block, damage, block.Domain, "pa_debug_check_block");
        return -1;
    }

    // ================================================================ reports

    /// <summary>CPython's words for what <see cref="Check"/> found.</summary>
    public static string Reason(Damage damage, byte allocated, byte verified) => damage switch
    {
        Damage.BadId => $"bad ID: Allocated using API {ApiText(allocated)}, verified using API {ApiText(verified)}",
        Damage.BadLeadingPad => "bad leading pad byte",
        Damage.BadSize => "bad size: the count of bytes requested was overwritten",
        Damage.BadTrailingPad => "bad trailing pad byte",
        _ => "no damage",
    };

    /* 'm' as CPython prints it; bytes that are not printable ASCII as '\xdd'. */
    private static string ApiText(byte id) =>
        id is >= 0x20 and < 0x7F ? $"'{(char)id}'" : $"'\\x{id:x2}'";

    private static void ReportDamage(in Block block, Damage damage, byte api, string function)
    {
        // A wrong domain with a right-looking id byte: the allocator's word names the API.
        byte id = block.Data[-S];
        byte allocated = damage == Damage.BadId && id == api ? block.Domain : id;
        string reason = Reason(damage, allocated, api);
        var text = new StringBuilder();
        AppendDump(text, block.Data, block.RawSize);
        AppendTraceback(text, block.Data, block.Domain);
        text.Append("Fatal PyAlloc error: ").Append(function).Append(": ").Append(reason);
        Errors.Set($"{function}: {reason} (debug memory block at p={Errors.Hex(block.Data)})");
        Fatal.Report(text.ToString());
    }

    /// <summary>
    /// _PyObject_DebugDumpAddress: the block whose data is at <paramref name="data"/>, as CPython
    /// prints it, ending with an empty line.
    /// </summary>
    /// <remarks>Pre: as <see cref="Check"/>; reads only inside the raw block.</remarks>
    public static string Dump(byte* data, nuint rawSize)
    {
        var text = new StringBuilder();
        AppendDump(text, data, rawSize);
        return text.ToString();
    }

    private static void AppendDump(StringBuilder text, byte* data, nuint rawSize)
    {
        text.Append("Debug memory block at address p=").Append(Errors.Hex(data)).Append(": API ")
            .Append(ApiText(data[-S])).Append('\n');
        ulong n = ReadSize(data - HeadBytes);
        text.Append("    ").Append(n).Append(" bytes originally requested\n");

        text.Append("    The ").Append(S - 1).Append(" pad bytes at p-").Append(S - 1).Append(" are ");
        if (AllForbidden(data - (S - 1), S - 1))
        {
            text.Append("FORBIDDENBYTE, as expected.\n");
        }
        else
        {
            text.Append("not all FORBIDDENBYTE (0x").Append(ForbiddenByte.ToString("x2")).Append("):\n");
            for (int i = S - 1; i >= 1; i--)
                AppendPadByte(text, "p-", i, data[-i]);
            text.Append("    Because memory is corrupted at the start, the count of bytes requested\n" +
                        "       may be bogus: the trailing pad bytes are read only if it fits the block.\n");
        }
        if (!Fits(n, rawSize))
        {
            text.Append("    The count of bytes requested does not fit the block (").Append(rawSize < Overhead ? 0 : rawSize - Overhead)
                .Append(" bytes at most):\n       the trailing pad bytes and the serial number were not read.\n\n");
            return;
        }

        byte* tail = data + n;
        text.Append("    The ").Append(S).Append(" pad bytes at tail=").Append(Errors.Hex(tail)).Append(" are ");
        if (AllForbidden(tail, S))
        {
            text.Append("FORBIDDENBYTE, as expected.\n");
        }
        else
        {
            text.Append("not all FORBIDDENBYTE (0x").Append(ForbiddenByte.ToString("x2")).Append("):\n");
            for (int i = 0; i < S; i++)
                AppendPadByte(text, "tail+", i, tail[i]);
        }
        text.Append("    The block was made by call #").Append(ReadSize(tail + S)).Append(" to debug malloc/realloc.\n");
        AppendData(text, data, (nuint)n);
        text.Append('\n');
    }

    private static bool AllForbidden(byte* p, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (p[i] != ForbiddenByte)
                return false;
        }
        return true;
    }

    private static void AppendPadByte(StringBuilder text, string where, int i, byte value)
    {
        text.Append("        at ").Append(where).Append(i).Append(": 0x").Append(value.ToString("x2"));
        if (value != ForbiddenByte)
            text.Append(" *** OUCH");
        text.Append('\n');
    }

    /* "    Data at p: cd cd ...": up to 8 bytes at the start and 8 at the end, as CPython. */
    private static void AppendData(StringBuilder text, byte* data, nuint n)
    {
        if (n == 0)
            return;
        text.Append("    Data at p:");
        nuint i = 0;
        for (; i < n && i < 8; i++)
            text.Append(' ').Append(data[i].ToString("x2"));
        if (i < n)
        {
            if (n - i > 8)
            {
                text.Append(" ...");
                i = n - 8;
            }
            for (; i < n; i++)
                text.Append(' ').Append(data[i].ToString("x2"));
        }
        text.Append('\n');
    }

    /* _PyMem_DumpTraceback: the allocation's traceback, or the hint to enable tracemalloc. */
    private static void AppendTraceback(StringBuilder text, byte* data, byte domain)
    {
        if (!Tracemalloc.IsTracing)
        {
            text.Append("Enable tracemalloc to get the memory block allocation traceback\n\n");
            return;
        }
        const int cap = Tracemalloc.MaxFrames;
        PaFrame* frames = stackalloc PaFrame[cap];
        int count = Tracemalloc.GetTraceback(data, frames, cap);
        if (count == 0 && domain == ApiObject)
            count = Tracemalloc.GetTraceback(data + sizeof(GcHead), frames, cap);
        if (count <= 0)
            return;
        text.Append("Memory block allocated at (most recent call first):\n");
        for (int i = 0; i < count; i++)
        {
            string file = frames[i].Filename != null
                ? Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(frames[i].Filename))
                : "<unknown>";
            text.Append("  File \"").Append(file).Append("\", line ").Append(frames[i].Lineno).Append('\n');
        }
        text.Append('\n');
    }

    /* p is not a live block: a double free when a block was freed at p - 2S lately, else a
       bad pointer. Memory is read only for a free block of one of our pools. */
    private static void ReportNotLive(byte* p, Found found, in Block block, string function)
    {
        var text = new StringBuilder();
        text.Append("Debug memory block at address p=").Append(Errors.Hex(p)).Append(':');
        string reason;
        if ((nuint)p >= HeadBytes && Freed.Find(p - HeadBytes, out Freed.Entry freed))
        {
            text.Append(" API ").Append(ApiText(freed.Api)).Append('\n')
                .Append("    ").Append(freed.Size).Append(" bytes originally requested\n")
                .Append("    The block was made by call #").Append(freed.Serial).Append(" to debug malloc/realloc.\n")
                .Append("    It was freed already: it is not a live block any more.\n");
            if (found == Found.FreePoolBlock && Fits(freed.Size, block.RawSize))
                AppendData(text, p, (nuint)freed.Size); // still a free block of our pool: readable
            else
                text.Append("    Its memory went back to the allocator underneath and was not read.\n");
            reason = "double free: the block was already freed";
        }
        else
        {
            text.Append(" not a live block\n");
            text.Append(found == Found.Nothing
                ? "    No block of PyAlloc's allocator starts at p-16: p was not allocated here\n" +
                  "       (or was freed long ago).  The memory around p was not read.\n"
                : "    p-16 lies in a PyAlloc pool, but no live block starts there: p was never\n" +
                  "       allocated, was freed long ago, or is not the start of a block.\n" +
                  "       The memory around p was not read.\n");
            reason = "bad pointer: not a live block of PyAlloc's debug allocator";
        }
        text.Append('\n');
        text.Append("Fatal PyAlloc error: ").Append(function).Append(": ").Append(reason);
        Errors.Set($"{function}: {reason} (p={Errors.Hex(p)})");
        Fatal.Report(text.ToString());
    }

    // ======================================================= freed blocks ring

    /// <summary>The last blocks freed through the hooks, to recognise a double free without reading memory.</summary>
    private static class Freed
    {
        public struct Entry
        {
            public nuint Base;
            public ulong Size;
            public ulong Serial;
            public byte Api;
        }

        private const int Capacity = 4096;
        private static NativeLock s_lock;
        private static Entry* s_ring;

        internal static void LockForFork() => s_lock.Enter();
        internal static void UnlockAfterFork() => s_lock.Exit();
        private static int s_next;

        public static void Remember(byte* raw, ulong size, byte api, ulong serial)
        {
            s_lock.Enter();
            if (s_ring == null)
                s_ring = (Entry*)NativeMemory.AllocZeroed(Capacity, (nuint)sizeof(Entry));
            if (s_ring != null)
            {
                s_ring[s_next] = new Entry { Base = (nuint)raw, Size = size, Serial = serial, Api = api };
                s_next = (s_next + 1) % Capacity;
            }
            s_lock.Exit();
        }

        /// <summary>The newest entry for <paramref name="raw"/>.</summary>
        public static bool Find(byte* raw, out Entry entry)
        {
            entry = default;
            bool found = false;
            s_lock.Enter();
            if (s_ring != null)
            {
                for (int k = 1; k <= Capacity; k++)
                {
                    // Invariant: entries newer than s_ring[(s_next - k) mod Capacity] are not for raw.
                    Entry e = s_ring[(s_next - k + Capacity) % Capacity];
                    if (e.Base == (nuint)raw)
                    {
                        entry = e;
                        found = true;
                        break;
                    }
                }
            }
            s_lock.Exit();
            return found;
        }
    }

    // ================================================ runtime blocks from malloc

    /// <summary>
    /// The raw blocks a runtime got from the system allocator while the hooks are on, by
    /// address, with their runtime: so that pa_free of an object is known for what it is.
    /// </summary>
    private static class ObjectBlocks
    {
        private static NativeLock s_lock;
        private static PointerMap s_owners;   // raw block -> Runtime*

        internal static void LockForFork() => s_lock.Enter();
        internal static void UnlockAfterFork() => s_lock.Exit();

        public static byte* Allocate(Runtime* rt, nuint total)
        {
            byte* raw = (byte*)Libc.Malloc(total);
            if (raw == null)
                return null;
            s_lock.Enter();
            bool registered = s_owners.Set(raw, (nuint)rt);
            s_lock.Exit();
            if (!registered || !rt->LargeBlocks.Set(raw, total))
            {
                Forget(raw);
                Libc.Free(raw);
                return null;
            }
            return raw;
        }

        public static Runtime* OwnerOf(byte* raw)
        {
            s_lock.Enter();
            Runtime* rt = (Runtime*)s_owners.Get(raw);
            s_lock.Exit();
            return rt;
        }

        public static void Free(Runtime* rt, byte* raw)
        {
            Forget(raw);
            rt->LargeBlocks.Remove(raw);
            Libc.Free(raw);
        }

        public static void Forget(void* raw)
        {
            s_lock.Enter();
            s_owners.Remove(raw);
            s_lock.Exit();
        }
    }

    /// <summary>fork: the hooks' three leaf locks (ForkSafety.cs).</summary>
    internal static void LockForFork()
    {
        Freed.LockForFork();
        ObjectBlocks.LockForFork();
        HookedBlocks.LockForFork();
    }

    internal static void UnlockAfterFork()
    {
        HookedBlocks.UnlockAfterFork();
        ObjectBlocks.UnlockAfterFork();
        Freed.UnlockAfterFork();
    }

    /// <summary>A runtime that is being destroyed releases a raw block of the system allocator.</summary>
    public static void ForgetObjectBlock(void* raw) => ObjectBlocks.Forget(raw);

    /// <summary>The runtime a large object block (its raw address) belongs to, or null.</summary>
    public static Runtime* OwnerOfObjectBlock(void* raw) => ObjectBlocks.OwnerOf((byte*)raw);

    // ========================================================= the slots' targets

    /// <summary>Pymalloc's <see cref="DebugCalls.Alloc"/>: <see cref="Alloc"/> over the process domain.</summary>
    public static void* AllocProcess(nuint n, bool zero) => Alloc(ProcessDomain, n, zero);

    /// <summary>Pymalloc's <see cref="DebugCalls.Free"/>: <see cref="Free"/> over the process domain.</summary>
    public static void FreeProcess(void* p, string function) => Free(p, ProcessDomain, function);

    /// <summary>A runtime's <see cref="ObjectDebugCalls.Alloc"/>: <see cref="Alloc"/> over its object domain.</summary>
    public static void* AllocObject(Runtime* rt, nuint n, bool zero) => Alloc(ObjectDomain(rt), n, zero);

    /// <summary>A runtime's <see cref="ObjectDebugCalls.Free"/>: <see cref="Free"/> over its object domain.</summary>
    public static void FreeObject(Runtime* rt, void* p, string function) => Free(p, ObjectDomain(rt), function);
}
