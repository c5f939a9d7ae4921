using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using PyAlloc.Core.Allocator;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Agreement;

/// <summary>
/// native/entry/thread_cache.h mirrors a few of the core's structures (the C fast path
/// reads them without calling the core): gcc's offsets must be the C# offsets.
/// </summary>
[TestFixture]
public sealed unsafe class ThreadCacheLayoutTests
{
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
        ("pa__fastpath", "heaps_span", typeof(FastPath), nameof(FastPath.HeapsSpan)),
        ("pa__fastpath", "arena_epoch", typeof(FastPath), nameof(FastPath.ArenaEpoch)),
        ("pa__fastpath", "deferred", typeof(FastPath), nameof(FastPath.Deferred)),
        ("pa__deferred", "next", typeof(DeferredFree), nameof(DeferredFree.Next)),
        ("pa__deferred", "block", typeof(DeferredFree), nameof(DeferredFree.Block)),
        ("pa__fastpath", "arena_root", typeof(FastPath), nameof(FastPath.ArenaRoot)),
        ("pa__fastpath", "secret", typeof(FastPath), nameof(FastPath.Secret)),
        ("pa__fastpath", "orphans", typeof(FastPath), nameof(FastPath.Orphans)),
    ];

    [Test]
    public void MirroredFields_HaveTheCoreOffsets()
    {
        var source = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include \"thread_cache.h\"\nint main(void)\n{\n");
        foreach (var m in Mirrored)
            source.Append($"    printf(\"{m.CStruct} {m.CField} %zu\\n\", offsetof({m.CStruct}, {m.CField}));\n");
        source.Append($"    printf(\"PA__NUM_CLASSES {Geometry.NumSizeClasses} %d\\n\", PA__NUM_CLASSES);\n");
        source.Append($"    printf(\"PA__POOL_OVERHEAD {Geometry.PoolOverhead} %u\\n\", PA__POOL_OVERHEAD);\n");
        source.Append($"    printf(\"PA__LIVE_WORDS_PER_POOL {Geometry.LiveWordsPerPool} %u\\n\", PA__LIVE_WORDS_PER_POOL);\n");
        source.Append($"    printf(\"PA__LARGE_SLOTS {ThreadCaches.LargeSlots} %u\\n\", (unsigned)PA__LARGE_SLOTS);\n");
        source.Append($"    printf(\"PA__ARENA_SLOTS {ThreadCaches.ArenaSlots} %u\\n\", (unsigned)PA__ARENA_SLOTS);\n");
        source.Append($"    printf(\"PA__PENDING {ThreadCaches.PendingSlots} %u\\n\", (unsigned)PA__PENDING);\n");
        source.Append($"    printf(\"PA__POOLS_PER_ARENA {Geometry.PoolsPerArena} %u\\n\", PA__POOLS_PER_ARENA);\n");
        source.Append($"    printf(\"PA__POOL_SIZE {Geometry.PoolSize} %u\\n\", PA__POOL_SIZE);\n");
        source.Append($"    printf(\"PA__ARENA_BITS {Geometry.ArenaBits} %d\\n\", PA__ARENA_BITS);\n");
        source.Append("    return 0;\n}\n");

        string dir = TestEnvironment.NewScratchDirectory();
        string output;
        try
        {
            string c = Path.Combine(dir, "mirror.c"), exe = Path.Combine(dir, "mirror");
            File.WriteAllText(c, source.ToString());
            string entryDir = Path.Combine(TestEnvironment.RepoRoot, "native", "entry");
            Processes.Run("gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", entryDir, c, "-o", exe);
            output = Processes.Run(exe);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var problems = new List<string>();
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(Mirrored.Length + 9));
        for (int i = 0; i < Mirrored.Length; i++)
        {
            var m = Mirrored[i];
            long gcc = long.Parse(lines[i].Split(' ')[2]);
            long net = (long)Marshal.OffsetOf(m.Type, m.Field);
            if (gcc != net)
                problems.Add($"{m.CStruct}.{m.CField} at {gcc}, {m.Type.Name}.{m.Field} at {net}");
        }
        foreach (string line in lines[Mirrored.Length..])
        {
            Match match = Regex.Match(line, @"^(\w+) (\d+) (\d+)$");
            if (!match.Success || match.Groups[2].Value != match.Groups[3].Value)
                problems.Add($"constant: {line} (name, core, C)");
        }
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }
}
