using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;
using PyAlloc.Tests.Support;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>pa_get_malloc_stats, pa_print_malloc_stats and pa_trim on the real libpyalloc.so.</summary>
[TestFixture]
public sealed unsafe class StatsTests
{
    private const int PoolHeaderSize = 48; // the pool header of include/pyalloc.h's "bytes_pool_headers"

    [SetUp]
    public void ClearError() => pa_clear_error();

    [Test]
    public void GetMallocStats_WithNullOut_ReturnsMinusOneWithError()
    {
        Assert.That(pa_get_malloc_stats(null), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.StartWith("pa_get_malloc_stats:"));
    }

    [Test]
    public void Stats_CountBlocksAllocatedInOneClass_AndForgetThemWhenFreed([Values(1, 48, 200, 512)] int size)
    {
        const int count = 300;
        MallocStats before = PyMemory.GetStats();
        var blocks = new nint[count];
        for (int i = 0; i < count; i++)
        {
            blocks[i] = (nint)pa_malloc((nuint)size);
            Memory.AssertBlock((void*)blocks[i], "pa_malloc");
        }
        MallocStats during = PyMemory.GetStats();
        foreach (nint p in blocks)
            pa_free((void*)p);
        MallocStats after = PyMemory.GetStats();

        int index = (size - 1) / PA_ALIGNMENT;
        long classSize = PA_ALIGNMENT * (index + 1);
        using (Assert.EnterMultipleScope())
        {
            for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++)
            {
                long expected = i == index ? count : 0;
                Assert.That(during.Classes[i].BlocksInUse - before.Classes[i].BlocksInUse, Is.EqualTo(expected),
                    $"blocks in use of class {i} after {count} allocations of {size} bytes");
                Assert.That(after.Classes[i].BlocksInUse, Is.EqualTo(before.Classes[i].BlocksInUse),
                    $"blocks in use of class {i} after freeing them");
            }
            Assert.That(during.BytesInUsedBlocks - before.BytesInUsedBlocks, Is.EqualTo(count * classSize));
            Assert.That(after.BytesInUsedBlocks, Is.EqualTo(before.BytesInUsedBlocks));
            Assert.That(during.LargeBlocks, Is.EqualTo(before.LargeBlocks));
        }
        AssertConsistent(during);
        AssertConsistent(after);
    }

    [Test]
    public void Stats_CountLargeBlocksAndTheirUsableBytes()
    {
        uint[] sizes = [513, 1000, 5000, 100000, 1 << 21];
        MallocStats before = PyMemory.GetStats();
        var blocks = sizes.Select(n => (nint)pa_malloc(n)).ToArray();
        long usable = blocks.Sum(p => (long)pa_usable_size((void*)p));
        MallocStats during = PyMemory.GetStats();
        foreach (nint p in blocks)
            pa_free((void*)p);
        MallocStats after = PyMemory.GetStats();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(during.LargeBlocks - before.LargeBlocks, Is.EqualTo(sizes.Length));
            Assert.That(during.LargeBytes - before.LargeBytes, Is.EqualTo(usable));
            Assert.That(after.LargeBlocks, Is.EqualTo(before.LargeBlocks));
            Assert.That(after.LargeBytes, Is.EqualTo(before.LargeBytes));
            Assert.That(PyMemory.LastError, Is.Empty);
        }
    }

    [Test]
    public void Stats_AreInternallyConsistent_WithBlocksOfEveryClassLive()
    {
        var blocks = new List<nint>();
        for (int size = 1; size <= 700; size += 5)
            for (int k = 0; k < 40; k++)
                blocks.Add((nint)pa_malloc((nuint)size));
        // free every third block so that pools have holes
        for (int i = 0; i < blocks.Count; i += 3)
            pa_free((void*)blocks[i]);
        AssertConsistent(PyMemory.GetStats());
        for (int i = 0; i < blocks.Count; i++)
            if (i % 3 != 0)
                pa_free((void*)blocks[i]);
        AssertConsistent(PyMemory.GetStats());
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    /// <summary>The relations include/pyalloc.h states between the fields.</summary>
    private static void AssertConsistent(MallocStats s)
    {
        using (Assert.EnterMultipleScope())
        {
            long pools = 0, used = 0, free = 0, quantization = 0;
            for (int i = 0; i < PA_NUM_SIZE_CLASSES; i++)
            {
                SizeClassStats c = s.Classes[i];
                long size = PA_ALIGNMENT * (i + 1);
                long perPool = (PA_POOL_SIZE - PoolHeaderSize) / size;
                Assert.That(c.Index, Is.EqualTo(i));
                Assert.That(c.BlockSize, Is.EqualTo(size), $"block_size of class {i}");
                Assert.That(c.BlocksInUse + c.FreeBlocks, Is.EqualTo(c.Pools * perPool), $"blocks of class {i}");
                pools += c.Pools;
                used += c.BlocksInUse * size;
                free += c.FreeBlocks * size;
                quantization += c.Pools * (PA_POOL_SIZE - PoolHeaderSize - perPool * size);
            }
            Assert.That(s.PoolsInUse, Is.EqualTo(pools), "pools_in_use = sum of the classes' pools");
            Assert.That(s.BytesInUsedBlocks, Is.EqualTo(used), "bytes_in_used_blocks");
            Assert.That(s.BytesInFreeBlocks, Is.EqualTo(free), "bytes_in_free_blocks");
            Assert.That(s.BytesQuantization, Is.EqualTo(quantization), "bytes_quantization");
            Assert.That(s.BytesPoolHeaders, Is.EqualTo(s.PoolsInUse * PoolHeaderSize), "bytes_pool_headers");
            Assert.That(s.BytesInFreePools, Is.EqualTo(s.PoolsFree * PA_POOL_SIZE), "bytes_in_free_pools");
            Assert.That(s.ArenaBytes, Is.EqualTo(s.ArenasCurrent * PA_ARENA_SIZE), "arena_bytes");
            Assert.That(s.PoolsInUse + s.PoolsFree, Is.EqualTo(s.ArenasCurrent * (PA_ARENA_SIZE / PA_POOL_SIZE)),
                "every pool of every arena is either in use or free");
            Assert.That(s.ArenasAllocated - s.ArenasReclaimed, Is.EqualTo(s.ArenasCurrent), "arenas: allocated - reclaimed = current");
            Assert.That(s.ArenasHighwater, Is.GreaterThanOrEqualTo(s.ArenasCurrent), "high-water mark");
            Assert.That(s.ArenasHighwater, Is.LessThanOrEqualTo(s.ArenasAllocated), "high-water mark");
        }
    }

    [Test]
    public void Trim_ReturnsWhollyFreeArenas_AndArenasCurrentDropsByThem()
    {
        pa_trim(); // start with no wholly free arena
        MallocStats start = PyMemory.GetStats();

        // Enough 512-byte blocks to fill every free block and free pool there is, and then
        // two whole new arenas that hold nothing else.
        int perPool = (PA_POOL_SIZE - PoolHeaderSize) / 512;
        long count = start.Classes[31].FreeBlocks + (start.PoolsFree + 2 * (PA_ARENA_SIZE / PA_POOL_SIZE) + 1) * perPool;
        var blocks = new nint[count];
        for (long i = 0; i < count; i++)
        {
            blocks[i] = (nint)pa_malloc(512);
            Assert.That((long)blocks[i], Is.Not.Zero, PyMemory.LastError);
        }
        MallocStats full = PyMemory.GetStats();
        foreach (nint p in blocks)
            pa_free((void*)p);
        MallocStats freed = PyMemory.GetStats();

        nuint released = pa_trim();
        MallocStats trimmed = PyMemory.GetStats();
        long arenasReleased = freed.ArenasCurrent - trimmed.ArenasCurrent;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(full.ArenasCurrent - start.ArenasCurrent, Is.GreaterThanOrEqualTo(2), "new arenas were mapped");
            Assert.That(arenasReleased, Is.GreaterThanOrEqualTo(2),
                "the wholly free arenas (kept mapped for reuse, PYALLOC_ARENA_DECAY_MS, or CPython's last one) go back at pa_trim");
            // The arenas, plus the resident free pages of the arenas kept (the free pools that
            // the test's blocks filled in them, at least).
            Assert.That((long)released, Is.GreaterThanOrEqualTo(arenasReleased * PA_ARENA_SIZE), "bytes released");
            Assert.That((long)released % Environment.SystemPageSize, Is.Zero, "pa_trim releases whole pages");
            Assert.That(trimmed.ArenasCurrent, Is.EqualTo(freed.ArenasCurrent - arenasReleased), "arenas_current");
            Assert.That(trimmed.ArenasReclaimed, Is.EqualTo(freed.ArenasReclaimed + arenasReleased), "arenas_reclaimed");
            Assert.That(trimmed.PoolsFree, Is.EqualTo(freed.PoolsFree - arenasReleased * (PA_ARENA_SIZE / PA_POOL_SIZE)));
            Assert.That((ulong)pa_trim(), Is.Zero, "nothing is left to trim");
        }
        AssertConsistent(trimmed);
    }

    [Test]
    public void PrintStats_ToAFile_WritesATableThatAgreesWithGetStats()
    {
        void* keep = pa_malloc(100); // at least one class row
        string dir = TestEnvironment.NewScratchDirectory();
        try
        {
            string path = Path.Combine(dir, "stats.txt");
            void* file = TestLibc.fopen(path, "w");
            Assert.That((long)file, Is.Not.Zero, "fopen");
            int rc = pa_print_malloc_stats(file);
            MallocStats stats = PyMemory.GetStats();
            TestLibc.fclose(file);
            Assert.That(rc, Is.Zero, PyMemory.LastError);

            string text = File.ReadAllText(path);
            Assert.That(text, Is.EqualTo(PyMemory.FormatStats()), "pa_print_malloc_stats to a file and to memory");
            AssertTableAgrees(text, stats);
        }
        finally
        {
            pa_free(keep);
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Reads the class rows and the "label = value" lines back and compares them with the figures.</summary>
    private static void AssertTableAgrees(string text, MallocStats stats)
    {
        var values = new Dictionary<string, long>();
        var rows = new Dictionary<int, long[]>();
        foreach (string line in text.Split('\n'))
        {
            Match m = Regex.Match(line, @"^(?<label>\S.*?)\s*=\s*(?<value>[\d,]+)$");
            if (m.Success)
                values[m.Groups["label"].Value] = long.Parse(m.Groups["value"].Value.Replace(",", ""));
            Match row = Regex.Match(line, @"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$");
            if (row.Success)
                rows[int.Parse(row.Groups[1].Value)] = Enumerable.Range(2, 4).Select(g => long.Parse(row.Groups[g].Value)).ToArray();
        }
        using (Assert.EnterMultipleScope())
        {
            foreach (SizeClassStats c in stats.Classes)
            {
                if (c.Pools == 0)
                {
                    Assert.That(rows.ContainsKey(c.Index), Is.False, $"class {c.Index} has no pools but a row");
                    continue;
                }
                Assert.That(rows.TryGetValue(c.Index, out long[]? r), Is.True, $"no row for class {c.Index}:\n{text}");
                if (r != null)
                    Assert.That(r, Is.EqualTo(new[] { c.BlockSize, c.Pools, c.BlocksInUse, c.FreeBlocks }), $"row of class {c.Index}");
            }
            Assert.That(values, Does.ContainKey("# arenas allocated current").WithValue(stats.ArenasCurrent), text);
            Assert.That(values, Does.ContainKey("# arenas allocated total").WithValue(stats.ArenasAllocated), text);
            Assert.That(values, Does.ContainKey("# bytes in allocated blocks").WithValue(stats.BytesInUsedBlocks), text);
            Assert.That(values, Does.ContainKey("# bytes in available blocks").WithValue(stats.BytesInFreeBlocks), text);
            Assert.That(values, Does.ContainKey("# large blocks (system allocator)").WithValue(stats.LargeBlocks), text);
        }
    }

    [Test]
    public void PrintStats_ToNull_ReturnsMinusOneWithError()
    {
        Assert.That(pa_print_malloc_stats(null), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Does.StartWith("pa_print_malloc_stats:"));
    }

    [Test]
    public void PrintStats_ToAReadOnlyStream_ReturnsMinusOneWithError()
    {
        string dir = TestEnvironment.NewScratchDirectory();
        try
        {
            string path = Path.Combine(dir, "readonly.txt");
            File.WriteAllText(path, "");
            void* file = TestLibc.fopen(path, "r");
            Assert.That((long)file, Is.Not.Zero, "fopen");
            int rc = pa_print_malloc_stats(file);
            TestLibc.fclose(file);
            Assert.That(rc, Is.EqualTo(-1));
            Assert.That(PyMemory.LastError, Does.StartWith("pa_print_malloc_stats:"));
            Assert.That(File.ReadAllText(path), Is.Empty);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
