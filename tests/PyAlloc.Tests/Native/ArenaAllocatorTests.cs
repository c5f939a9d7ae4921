using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using NUnit.Framework;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>
/// The arena allocator from .NET (<see cref="PyMemory.SetArenaAllocator(in PaMemArenaAllocator)"/>,
/// <c>pa_object_set_arena_allocator</c>): a counting allocator written in C# ([UnmanagedCallersOnly]) gets every
/// new arena, each comes back to it with the pointer and size it returned, unaligned memory is used from its
/// aligned part, a null from it fails the allocation, the default is restored, bad arguments are refused.
/// </summary>
/// <remarks>
/// The process heap is shared with the other tests: every case restores the default and checks that all the
/// counting allocator's arenas came back (a C# allocator's arena left behind would be given back from a later
/// <c>pa_free</c>, which has no GC transition). Blocks go through <see cref="PyMemory"/>, which keeps the
/// transition once an arena allocator was set.
/// </remarks>
[TestFixture, NonParallelizable]
public sealed unsafe class ArenaAllocatorTests
{
    private const int Block = 256;
    private const int PerMiB = (1 << 20) / Block;
    private const nuint ArenaSize = 1 << 20;
    private const int MaxRegions = 256;

    // The counting allocator's state: fixed tables, so that its functions allocate nothing managed.
    private static readonly nint[] s_ptr = new nint[MaxRegions], s_base = new nint[MaxRegions];
    private static readonly nuint[] s_size = new nuint[MaxRegions];
    private static readonly bool[] s_live = new bool[MaxRegions];
    private static readonly object s_lock = new();
    private static int s_regions, s_allocs, s_frees, s_failedAllocs, s_badFrees;
    private static bool s_misalign, s_fail;

    private PaMemArenaAllocator _default;
    private readonly nint[] _blocks = new nint[64 * PerMiB];

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void* CountingAlloc(void* ctx, nuint size)
    {
        lock (s_lock)
        {
            if (s_fail || s_regions == MaxRegions || ctx != (void*)0x5eed)
            {
                s_failedAllocs++;
                return null;
            }
            byte* b = (byte*)NativeMemory.AlignedAlloc(size + 4096, ArenaSize);
            if (b == null)
                return null;
            byte* p = s_misalign ? b + 4096 : b;
            int i = s_regions++;
            s_ptr[i] = (nint)p;
            s_base[i] = (nint)b;
            s_size[i] = size;
            s_live[i] = true;
            s_allocs++;
            return p;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void CountingFree(void* ctx, void* ptr, nuint size)
    {
        lock (s_lock)
        {
            for (int i = 0; i < s_regions; i++)
            {
                if (s_live[i] && s_ptr[i] == (nint)ptr && s_size[i] == size && ctx == (void*)0x5eed)
                {
                    s_live[i] = false;
                    s_frees++;
                    NativeMemory.AlignedFree((void*)s_base[i]);
                    return;
                }
            }
            s_badFrees++;
        }
    }

    private static PaMemArenaAllocator Counting => new()
    {
        Ctx = (void*)0x5eed,
        Alloc = &CountingAlloc,
        Free = &CountingFree,
    };

    private static int LiveRegions()
    {
        lock (s_lock)
        {
            int n = 0;
            for (int i = 0; i < s_regions; i++)
                n += s_live[i] ? 1 : 0;
            return n;
        }
    }

    [SetUp]
    public void Start()
    {
        _default = PyMemory.GetArenaAllocator();
        lock (s_lock)
        {
            Assert.That(LiveRegions(), Is.Zero, "an earlier case left an arena of the counting allocator");
            s_regions = s_allocs = s_frees = s_failedAllocs = s_badFrees = 0;
            s_misalign = s_fail = false;
        }
        PyMemory.Trim();
    }

    [TearDown]
    public void RestoreTheDefault()
    {
        PyMemory.SetArenaAllocator(_default);
        PyMemory.Trim();
        Assert.That(LiveRegions(), Is.Zero, "every arena of the counting allocator is given back");
        Assert.That(s_badFrees, Is.Zero, "a free of a pointer or size the allocator did not hand out");
    }

    private void AllocateBlocks(int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            byte* p = (byte*)PyMemory.Alloc(Block);
            p[0] = (byte)i;
            p[Block - 1] = (byte)~i;
            _blocks[i] = (nint)p;
        }
    }

    private void FreeBlocks(int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            byte* p = (byte*)_blocks[i];
            Assert.That(p[0] == (byte)i && p[Block - 1] == (byte)~i, Is.True, $"block {i} kept its contents");
            PyMemory.Free(p);
        }
    }

    [Test]
    public void NewArenas_ComeFromTheInstalledAllocator_AndGoBackToIt()
    {
        PyMemory.SetArenaAllocator(Counting);
        PaMemArenaAllocator got = PyMemory.GetArenaAllocator();
        Assert.That((long)got.Ctx, Is.EqualTo(0x5eedL));
        Assert.That((nint)got.Alloc == (nint)Counting.Alloc && (nint)got.Free == (nint)Counting.Free, Is.True);
        long before = PyMemory.GetStats().ArenasAllocated;

        AllocateBlocks(0, 4 * PerMiB);
        long made = PyMemory.GetStats().ArenasAllocated - before;
        Assert.That(made, Is.GreaterThanOrEqualTo(3));
        Assert.That(s_allocs, Is.EqualTo(made), "one aligned 1 MiB request per arena");
        Assert.That(LiveRegions(), Is.EqualTo(made));
        int inside = 0;
        for (int i = 0; i < 4 * PerMiB; i++)
        {
            nint arena = _blocks[i] & ~(nint)(ArenaSize - 1);
            for (int r = 0; r < s_regions; r++)
                inside += s_live[r] && s_ptr[r] == arena ? 1 : 0;
        }
        Assert.That(inside, Is.GreaterThanOrEqualTo((made - 1) * PerMiB * 9 / 10), "the blocks are in its memory");

        FreeBlocks(0, 4 * PerMiB);
        Assert.That(PyMemory.Trim(), Is.GreaterThanOrEqualTo((nuint)made * ArenaSize));
        Assert.That(s_frees, Is.EqualTo(s_allocs));
        Assert.That(LiveRegions(), Is.Zero);
    }

    [Test]
    public void UnalignedMemory_IsUsedFromItsAlignedPart()
    {
        s_misalign = true;
        PyMemory.SetArenaAllocator(&CountingAlloc, &CountingFree, (void*)0x5eed);
        long before = PyMemory.GetStats().ArenasAllocated;
        AllocateBlocks(0, 3 * PerMiB);
        long made = PyMemory.GetStats().ArenasAllocated - before;
        Assert.That(made, Is.GreaterThanOrEqualTo(2));
        Assert.That(s_allocs, Is.EqualTo(2 * made), "1 MiB asked and given back, then 2 MiB");
        Assert.That(s_frees, Is.EqualTo(made));
        for (int r = 0; r < s_regions; r++)
            Assert.That(s_size[r], Is.EqualTo(s_live[r] ? 2 * ArenaSize : ArenaSize));
        FreeBlocks(0, 3 * PerMiB);
        PyMemory.Trim();
        Assert.That(s_frees, Is.EqualTo(s_allocs));
    }

    [Test]
    public void NullFromAlloc_FailsTheAllocationThatNeedsAnArena()
    {
        s_fail = true;
        PyMemory.SetArenaAllocator(Counting);
        int n = 0;
        void* p = null;
        while (n < _blocks.Length && (p = PyMemory.TryAlloc(Block)) != null)
            _blocks[n++] = (nint)p;
        Assert.That(p == null, Is.True, "the arenas there were ran out");
        Assert.That(PyMemory.LastError, Does.Contain("out of memory"));
        Assert.That(s_failedAllocs, Is.GreaterThanOrEqualTo(1));
        Assert.That(() => PyMemory.Alloc(Block), Throws.TypeOf<PyAllocException>().With.Message.Contains("out of memory"));

        s_fail = false;
        void* q = PyMemory.Alloc(Block);
        Assert.That(s_allocs, Is.EqualTo(1), "memory again: the next allocation takes an arena");
        PyMemory.Free(q);
        for (int i = 0; i < n; i++)
            PyMemory.Free((void*)_blocks[i]);
    }

    [Test]
    public void TheDefault_IsRestored_AndOldArenasGoBackToTheirMaker()
    {
        Assert.That(_default.Alloc != null && _default.Free != null, Is.True);
        PyMemory.SetArenaAllocator(Counting);
        AllocateBlocks(0, 2 * PerMiB);
        int made = s_allocs;
        Assert.That(made, Is.GreaterThanOrEqualTo(1));

        PyMemory.SetArenaAllocator(_default);
        PaMemArenaAllocator got = PyMemory.GetArenaAllocator();
        Assert.That(got.Ctx == _default.Ctx && (nint)got.Alloc == (nint)_default.Alloc && (nint)got.Free == (nint)_default.Free, Is.True);
        long before = PyMemory.GetStats().ArenasAllocated;
        AllocateBlocks(2 * PerMiB, 4 * PerMiB);
        Assert.That(PyMemory.GetStats().ArenasAllocated - before, Is.GreaterThanOrEqualTo(1));
        Assert.That(s_allocs, Is.EqualTo(made), "the default's arenas do not come from the counting allocator");

        FreeBlocks(0, 4 * PerMiB);
        PyMemory.Trim();
        Assert.That(s_frees, Is.EqualTo(made), "its arenas came back to it, the default in force");
    }

    [Test]
    public void TheDefaultsFunctions_CanBeCalled()
    {
        byte* p = (byte*)_default.Alloc(_default.Ctx, ArenaSize);
        Assert.That(p != null, Is.True);
        Assert.That((ulong)p % ArenaSize, Is.EqualTo(0UL), "the default maps arena-sized requests aligned");
        p[0] = 1;
        p[ArenaSize - 1] = 2;
        _default.Free(_default.Ctx, p, ArenaSize);
    }

    [Test]
    public void BadArguments_AreRefused()
    {
        Assert.That(() => PyMemory.SetArenaAllocator(new PaMemArenaAllocator { Alloc = &CountingAlloc }),
            Throws.TypeOf<ArgumentNullException>());
        Assert.That(() => PyMemory.SetArenaAllocator(null, &CountingFree), Throws.TypeOf<ArgumentNullException>());
        Assert.That(pa_object_set_arena_allocator(null), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.Contain("pa_object_set_arena_allocator: allocator is NULL"));
        PaMemArenaAllocator noFree = Counting;
        noFree.Free = null;
        Assert.That(pa_object_set_arena_allocator(&noFree), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.Contain("free is NULL"));
        Assert.That(pa_object_get_arena_allocator(null), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.Contain("pa_object_get_arena_allocator: out is NULL"));
        PaMemArenaAllocator got = PyMemory.GetArenaAllocator();
        Assert.That((nint)got.Alloc == (nint)_default.Alloc, Is.True, "nothing changed");
    }

    [Test]
    public void InstallingWhileThreadsAllocate_KeepsEachArenaWithItsMaker()
    {
        s_misalign = true;
        PyMemory.SetArenaAllocator(_default); // from here PyMemory keeps the GC transition in every thread
        var stop = 0;
        var threads = new Thread[2];
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(() =>
            {
                var mine = new nint[2 * PerMiB];
                while (Volatile.Read(ref stop) == 0)
                {
                    for (int i = 0; i < mine.Length; i++)
                        mine[i] = (nint)PyMemory.Alloc(Block);
                    for (int i = 0; i < mine.Length; i++)
                        PyMemory.Free((void*)mine[i]);
                    PyMemory.Trim(); // its arenas go back: the next round needs new ones
                }
                PyMemory.Trim(); // its cache back to the pools now, not in the thread's exit (README, Known issues)
            });
            threads[t].Start();
        }
        for (int round = 0; round < 30; round++)
        {
            PyMemory.SetArenaAllocator(round % 2 == 0 ? Counting : _default);
            Thread.Sleep(5);
        }
        Volatile.Write(ref stop, 1);
        foreach (Thread t in threads)
            t.Join();
        PyMemory.SetArenaAllocator(_default);
        PyMemory.Trim();
        Assert.That(s_allocs, Is.GreaterThanOrEqualTo(1));
        Assert.That(s_frees, Is.EqualTo(s_allocs), "every arena it made came back, none of the default's");
    }
}
