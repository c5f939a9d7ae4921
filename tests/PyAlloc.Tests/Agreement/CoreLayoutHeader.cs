using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using NUnit.Framework;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Debugging;
using PyAlloc.Core.Tracing;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Agreement;

/// <summary>
/// native/entry/core_layout.g.h, generated from the core: every constant the C entry shares with
/// the core, the size-class formula, and a compile-time check of each field the C side mirrors
/// (thread_cache.h's pa__arena, pa__pool, pa__tcache, pa__fastpath, pa__deferred; entry.c's
/// pa__site). The core is the one source: a change there that the C side does not follow stops
/// the build of libpyalloc.so at the static assert that names the field.
/// </summary>
/// <remarks>
/// The file is checked in (the C build needs no .NET step first) and checked fresh by
/// <see cref="CoreLayoutHeaderTests"/>. Regenerate it with
/// <c>PYALLOC_REGENERATE=1 ./build.sh test</c>, or only this test:
/// <c>PYALLOC_REGENERATE=1 dotnet test tests/PyAlloc.Tests -c Release --filter CoreLayoutHeader</c>.
/// </remarks>
internal static class CoreLayoutHeader
{
    public const string RelativePath = "native/entry/core_layout.g.h";

    /// <summary>(C struct, C field, C# type, C# field): every field either side reads.</summary>
    private static readonly (string CStruct, string CField, Type Type, string Field)[] Mirrored =
    [
        ("pa__arena", "address", typeof(ArenaObject), nameof(ArenaObject.Address)),
        ("pa__arena", "heap", typeof(ArenaObject), nameof(ArenaObject.Heap)),
        ("pa__arena", "live_bits", typeof(ArenaObject), nameof(ArenaObject.LiveBits)),
        ("pa__pool", "count", typeof(PoolHeader), nameof(PoolHeader.Count)),
        ("pa__pool", "size_index", typeof(PoolHeader), nameof(PoolHeader.SizeIndex)),
        ("pa__tcache", "heads", typeof(ThreadCache), nameof(ThreadCache.Heads)),
        ("pa__tcache", "counts", typeof(ThreadCache), nameof(ThreadCache.Counts)),
        ("pa__tcache", "next_orphan", typeof(ThreadCache), nameof(ThreadCache.NextOrphan)),
        ("pa__tcache", "next_live", typeof(ThreadCache), nameof(ThreadCache.NextLive)),
        ("pa__tcache", "prev_live", typeof(ThreadCache), nameof(ThreadCache.PrevLive)),
        ("pa__tcache", "heap", typeof(ThreadCache), nameof(ThreadCache.Heap)),
        ("pa__tcache", "nlarge", typeof(ThreadCache), nameof(ThreadCache.LargeCount)),
        ("pa__tcache", "large", typeof(ThreadCache), nameof(ThreadCache.Large)),
        ("pa__tcache", "large_size", typeof(ThreadCache), nameof(ThreadCache.LargeSizes)),
        ("pa__tcache", "arena_epoch", typeof(ThreadCache), nameof(ThreadCache.ArenaSlots)),
        ("pa__tcache", "npending", typeof(ThreadCache), nameof(ThreadCache.PendingCount)),
        ("pa__tcache", "last_index", typeof(ThreadCache), nameof(ThreadCache.LastIndex)),
        ("pa__tcache", "last", typeof(ThreadCache), nameof(ThreadCache.Last)),
        ("pa__tcache", "pending", typeof(ThreadCache), nameof(ThreadCache.Pending)),
        ("pa__fastpath", "enabled", typeof(FastPath), nameof(FastPath.Enabled)),
        ("pa__fastpath", "attached", typeof(FastPath), nameof(FastPath.Attached)),
        ("pa__fastpath", "heaps", typeof(FastPath), nameof(FastPath.Heaps)),
        ("pa__fastpath", "arena_root", typeof(FastPath), nameof(FastPath.ArenaRoot)),
        ("pa__fastpath", "secret", typeof(FastPath), nameof(FastPath.Secret)),
        ("pa__fastpath", "orphans", typeof(FastPath), nameof(FastPath.Orphans)),
        ("pa__fastpath", "heaps_span", typeof(FastPath), nameof(FastPath.HeapsSpan)),
        ("pa__fastpath", "arena_epoch", typeof(FastPath), nameof(FastPath.ArenaEpoch)),
        ("pa__fastpath", "deferred", typeof(FastPath), nameof(FastPath.Deferred)),
        ("pa__deferred", "next", typeof(DeferredFree), nameof(DeferredFree.Next)),
        ("pa__deferred", "block", typeof(DeferredFree), nameof(DeferredFree.Block)),
        ("pa__site", "file", typeof(AllocationSite), nameof(AllocationSite.File)),
        ("pa__site", "line", typeof(AllocationSite), nameof(AllocationSite.Line)),
        ("pa__site", "frames", typeof(AllocationSite), nameof(AllocationSite.Frames)),
        ("pa__site", "nframes", typeof(AllocationSite), nameof(AllocationSite.FrameCount)),
    ];

    /// <summary>(C name, value, C suffix, where the core defines it).</summary>
    private static readonly (string Name, long Value, string Suffix, string Source)[] Constants =
    [
        ("PA__ALIGNMENT_SHIFT", Geometry.AlignmentShift, "", "Geometry.AlignmentShift: blocks are 16-byte granules"),
        ("PA__NUM_CLASSES", Geometry.NumSizeClasses, "", "Geometry.NumSizeClasses"),
        ("PA__SMALL_MAX", Geometry.SmallRequestThreshold, "", "Geometry.SmallRequestThreshold: larger requests are not pool blocks"),
        ("PA__POOL_SIZE", Geometry.PoolSize, "u", "Geometry.PoolSize"),
        ("PA__POOL_OVERHEAD", Geometry.PoolOverhead, "u", "Geometry.PoolOverhead: the pool header"),
        ("PA__POOLS_PER_ARENA", Geometry.PoolsPerArena, "u", "Geometry.PoolsPerArena"),
        ("PA__LIVE_WORDS_PER_POOL", Geometry.LiveWordsPerPool, "u", "Geometry.LiveWordsPerPool"),
        ("PA__ARENA_BITS", Geometry.ArenaBits, "", "Geometry.ArenaBits: arenas are 1 MiB, aligned"),
        ("PA__ADDRESS_BITS", ArenaMap.AddressBits, "", "ArenaMap.AddressBits: the arena map covers user space"),
        ("PA__MAP_LEAF_BITS", ArenaMap.LeafBits, "", "ArenaMap.LeafBits: a leaf of the arena map"),
        ("PA__ARENA_SLOTS", ThreadCaches.ArenaSlots, "", "ThreadCaches.ArenaSlots"),
        ("PA__LARGE_SLOTS", ThreadCaches.LargeSlots, "", "ThreadCaches.LargeSlots"),
        ("PA__PENDING", ThreadCaches.PendingSlots, "", "ThreadCaches.PendingSlots: the ring of pending frees"),
    ];

    /// <summary>The header's text as the core defines it now.</summary>
    public static string Generate()
    {
        var s = new StringBuilder();
        s.Append("/* GENERATED from src/PyAlloc.Core by tests/PyAlloc.Tests/Agreement/CoreLayoutHeader.cs:\n");
        s.Append("   do not edit.  Regenerate: PYALLOC_REGENERATE=1 dotnet test tests/PyAlloc.Tests -c Release\n");
        s.Append("   --filter CoreLayoutHeader (a test of ./build.sh test fails while it is stale).\n\n");
        s.Append("   What the C entry (native/entry) shares with the core: the constants, the\n");
        s.Append("   size-class formula, and the offsets of every field it mirrors, checked by\n");
        s.Append("   the compiler (PA__CORE_LAYOUT_ASSERTS, used once the structs are defined). */\n");
        s.Append("#ifndef PA_CORE_LAYOUT_G_H\n#define PA_CORE_LAYOUT_G_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n");
        foreach (var (name, value, suffix, source) in Constants)
            s.Append($"#define {name,-24} {value + suffix,-7} /* {source} */\n");
        s.Append("\n/* A block's address is a multiple of the granule: the low bits a pointer to one has clear. */\n");
        s.Append("#define PA__ALIGNMENT_MASK ((1u << PA__ALIGNMENT_SHIFT) - 1)\n");
        s.Append("\n/* Geometry.SizeToIndex: the size class of a request of n bytes, 0 < n <= PA__SMALL_MAX\n");
        s.Append("   (and class 0 for n = 0, which gets a 16-byte block). */\n");
        s.Append("#define PA__SIZE_CLASS(n) ((uint32_t)(((n) - ((n) != 0)) >> PA__ALIGNMENT_SHIFT))\n\n");
        s.Append("/* Where the core has each mirrored field (Marshal.OffsetOf of its struct). */\n");
        s.Append("#define PA__CORE_LAYOUT_ASSERTS(STRUCT) PA__CORE_LAYOUT_ASSERTS_##STRUCT\n");
        foreach (string cStruct in new[] { "pa__arena", "pa__pool", "pa__tcache", "pa__fastpath", "pa__deferred", "pa__site" })
        {
            s.Append($"#define PA__CORE_LAYOUT_ASSERTS_{cStruct} \\\n");
            foreach (var (cs, cField, type, field) in Mirrored)
            {
                if (cs != cStruct)
                    continue;
                long offset = (long)Marshal.OffsetOf(type, field);
                s.Append($"    _Static_assert(offsetof({cs}, {cField}) == {offset}, \"{cs}.{cField} is at {offset} in the core ({type.Name}.{field})\"); \\\n");
            }
            s.Append("    _Static_assert(1, \"\")\n");
        }
        s.Append("\n#endif\n");
        return s.ToString();
    }
}

/// <summary>The generated header is the one the core generates now (or is rewritten, with PYALLOC_REGENERATE=1).</summary>
[TestFixture]
public sealed class CoreLayoutHeaderTests
{
    [Test]
    public void TheCheckedInHeader_IsWhatTheCoreGenerates()
    {
        string path = Path.Combine(TestEnvironment.RepoRoot, CoreLayoutHeader.RelativePath);
        string generated = CoreLayoutHeader.Generate();
        if (Environment.GetEnvironmentVariable("PYALLOC_REGENERATE") == "1")
            File.WriteAllText(path, generated);
        Assert.That(File.ReadAllText(path), Is.EqualTo(generated),
            $"{CoreLayoutHeader.RelativePath} is stale: regenerate it (PYALLOC_REGENERATE=1, see its first lines)");
    }

    [Test]
    public void TheSizeClassFormula_IsTheCoresForEverySmallRequest()
    {
        var constants = new LayoutMirror.Constant[Geometry.SmallRequestThreshold + 1];
        for (int n = 0; n <= Geometry.SmallRequestThreshold; n++)
            constants[n] = new($"PA__SIZE_CLASS((size_t){n})", Geometry.SizeToIndex((nuint)n));
        var problems = LayoutMirror.Problems("thread_cache.h", [], constants);
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }
}
