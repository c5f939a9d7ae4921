using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Tracing;

/// <summary>
/// <see cref="PyRuntime.CountObjectsByType"/> (<c>pa_count_objects_by_type</c>) and the article's find_leaks recipe,
/// mirroring tests/c/test_census.c: a leaky operation (cycles kept alive by a global list) shows as the same growth on
/// every call, in <c>gc.get_objects()</c>, in the census of one type, and in tracemalloc's <c>compare_to</c>.
/// </summary>
[TestFixture]
public sealed unsafe class CensusTests : RuntimeFixture
{
    private static readonly long Head = 2 * sizeof(nint);   // the collector's two words before each object

    [TearDown]
    public void StopTracing() => Tracemalloc.Stop();

    [Test]
    public void CountObjectsByType_CountsAndMeasures_LargestTotalFirst_ThenMostObjects()
    {
        PyType small = new PyTypeBuilder("small").WithBasicSize(32).Build(Rt);
        PyType big = new PyTypeBuilder("big").WithBasicSize(256).Build(Rt);
        PyType tie = new PyTypeBuilder("tie").WithBasicSize(48).Build(Rt);
        var owned = new List<PyOwned>();
        for (int i = 0; i < 10; i++) owned.Add(small.New());                   // 10 x (16 + 32) = 480
        for (int i = 0; i < 2; i++) owned.Add(big.New());                      // 2 x (16 + 256) = 544
        for (int i = 0; i < 8; i++) owned.Add(tie.New());                      // 8 x (16 + 48) = 512
        try
        {
            IReadOnlyList<ObjectTypeCount> census = Rt.CountObjectsByType();
            Assert.That(census.Select(c => (c.Name, c.Count, c.Bytes)), Is.EqualTo(new[]
            {
                ("big", 2L, 2 * (Head + 256)), ("tie", 8L, 8 * (Head + 48)), ("small", 10L, 10 * (Head + 32)),
            }));
            Assert.That(census[0].Type == big.Handle, Is.True);
            Assert.That(census[0].ToString(), Is.EqualTo($"big: 2 objects, {2 * (Head + 256)} B"));

            // equal totals: more objects first
            PyType quarter = new PyTypeBuilder("quarter").WithBasicSize(2 * (Head + 256) / 4 - Head).Build(Rt);
            for (int i = 0; i < 4; i++) owned.Add(quarter.New());
            census = Rt.CountObjectsByType();
            Assert.That(census.Select(c => c.Name).Take(2), Is.EqualTo(new[] { "quarter", "big" }));
            Assert.That(census[0].Bytes, Is.EqualTo(census[1].Bytes));
        }
        finally
        {
            foreach (PyOwned o in owned)
                o.Dispose();
        }
        Assert.That(Rt.CountObjectsByType(), Is.Empty, "types without objects are left out");
    }

    [Test]
    public void CountObjectsByType_FollowsDeathsByCountAndByCollection_AndIsPerRuntime()
    {
        PyType holder = HolderType();
        (PyObjectRef _, PyObjectRef _) = UnreachableCycle(holder);
        using PyOwned list = PyList.New(Rt);
        Assert.That(Rt.CountObjectsByType().Select(c => (c.Name, c.Count)), Is.EquivalentTo(new[] { ("Holder", 2L), ("list", 1L) }));
        Rt.Collect();
        Assert.That(Rt.CountObjectsByType().Select(c => (c.Name, c.Count)), Is.EqualTo(new[] { ("list", 1L) }));
        using (var other = new PyRuntime())
            Assert.That(other.CountObjectsByType(), Is.Empty);
        var gone = new PyRuntime();
        gone.Dispose();
        Assert.Throws<ObjectDisposedException>(() => gone.CountObjectsByType());
    }

    [Test]
    public void PoolMap_CountsTheBlocksTheTestAllocated()
    {
        PyType cell = new PyTypeBuilder("cell").WithBasicSize(48).Build(Rt);   // 16 + 48 = 64 bytes a block
        static long InUse(PaPoolInfo[] map) => map.Sum(p => (long)p.BlocksInUse);
        long before = InUse(Rt.PoolMap());
        var owned = new List<PyOwned>();
        for (int i = 0; i < 600; i++) owned.Add(cell.New());
        try
        {
            PaPoolInfo[] map = Rt.PoolMap();
            Assert.That(map.Length % 64, Is.Zero);
            Assert.That(map.Length, Is.GreaterThanOrEqualTo(64));
            Assert.That(InUse(map), Is.EqualTo(before + 600));
            for (int i = 0; i < map.Length; i++)
            {
                Assert.That(((long)map[i].Arena, (long)map[i].Pool), Is.EqualTo(((long)(i / 64), (long)(i % 64))));
                if (map[i].SizeClass < 0)
                    Assert.That((map[i].SizeClass, map[i].BlocksInUse, map[i].BlocksTotal), Is.EqualTo((-1, (nuint)0, (nuint)0)));
                else
                    Assert.That(map[i].BlocksInUse, Is.InRange((nuint)1, map[i].BlocksTotal));
            }
        }
        finally
        {
            foreach (PyOwned o in owned)
                o.Dispose();
        }
        Assert.That(InUse(Rt.PoolMap()), Is.EqualTo(before));
        var gone = new PyRuntime();
        gone.Dispose();
        Assert.Throws<ObjectDisposedException>(() => gone.PoolMap());
    }

    /// <summary><c>pa_runtime_get_malloc_stats</c> / <c>pa_runtime_print_malloc_stats</c>: the runtime's own table counts
    /// its objects, small and large, and the process table does not.</summary>
    [Test]
    public void RuntimeMallocStats_CountItsObjectsOnly()
    {
        PyType cell = new PyTypeBuilder("cell").WithBasicSize(48).Build(Rt);
        PyType big = new PyTypeBuilder("big").WithBasicSize(2000).Build(Rt);    // above 512 bytes: a large block
        static long Live(MallocStats s) => s.LargeBlocks + s.Classes.Sum(c => c.BlocksInUse);
        MallocStats before = Rt.GetMallocStats();
        long processBefore = Live(PyMemory.GetStats());
        var owned = new List<PyOwned>();
        for (int i = 0; i < 300; i++) owned.Add(cell.New());
        owned.Add(big.New());
        try
        {
            MallocStats after = Rt.GetMallocStats();
            Assert.That(Live(after), Is.EqualTo(Live(before) + 301));
            Assert.That(after.LargeBlocks, Is.EqualTo(before.LargeBlocks + 1));
            Assert.That(after.LargeBytes, Is.GreaterThanOrEqualTo(before.LargeBytes + 2000));
            Assert.That(Live(PyMemory.GetStats()), Is.EqualTo(processBefore), "objects are not the process allocator's");
            Assert.That(Rt.FormatMallocStats(), Does.Contain("blocks in use").And.Contain("# large blocks (system allocator)"));
        }
        finally
        {
            foreach (PyOwned o in owned)
                o.Dispose();
        }
        Assert.That(Live(Rt.GetMallocStats()), Is.EqualTo(Live(before)));
        var gone = new PyRuntime();
        gone.Dispose();
        Assert.Throws<ObjectDisposedException>(() => gone.GetMallocStats());
    }

    /// <summary><c>pa_pool_map</c>: the process heap's pools count the blocks pa_malloc serves, and let them go.</summary>
    [Test]
    public void ProcessPoolMap_CountsTheBlocksPaMallocServes()
    {
        static PaPoolInfo[] Map()
        {
            nuint total = NativeMethods.pa_pool_map(null, 0);
            var map = new PaPoolInfo[(int)total + 64];   // room for a new arena meanwhile
            fixed (PaPoolInfo* p = map)
                total = NativeMethods.pa_pool_map(p, (nuint)map.Length);
            return map[..(int)total];
        }
        static long InUse(PaPoolInfo[] map) => map.Sum(p => (long)p.BlocksInUse);

        long before = InUse(Map());
        var blocks = new List<nint>();
        for (int i = 0; i < 500; i++)
            blocks.Add((nint)NativeMethods.pa_malloc(100));
        try
        {
            PaPoolInfo[] map = Map();
            Assert.That(map.Length % 64, Is.Zero, "64 rows an arena");
            Assert.That(InUse(map), Is.EqualTo(before + 500));
        }
        finally
        {
            foreach (nint b in blocks)
                NativeMethods.pa_free((void*)b);
        }
        Assert.That(InUse(Map()), Is.EqualTo(before));
    }

    // ------------------------------------------------------------------ find_leaks

    private PyOwned _cache = null!;   // the global list: what it holds never dies
    private PyType _leaky = null!;
    private PyType _temp = null!;

    private void LeakSetUp()
    {
        _cache = PyList.New(Rt);
        _leaky = HolderType("Leaky");
        _temp = HolderType("Temp");
    }

    private static readonly byte* LeakFile = Sites.Of("leak.cs\0"u8);

    /// <summary>Two Leaky objects in a cycle, kept by the cache; two Temp objects in a cycle that nobody keeps.</summary>
    private void LeakyOperation()
    {
        using PyOwned x = PyOwned.Steal(new PyObjectRef(NativeMethods.pa_object_new_at(_leaky.Handle, LeakFile, 1)));
        using PyOwned y = PyOwned.Steal(new PyObjectRef(NativeMethods.pa_object_new_at(_leaky.Handle, LeakFile, 2)));
        SetRef(x, y);
        SetRef(y, x);
        PyList.Append(_cache, x);
        UnreachableCycle(_temp);
    }

    /// <summary>The article's find_leaks: collect, count, run, collect, count.</summary>
    private long FindLeaks()
    {
        Rt.Collect();
        long before = TrackedObjects();
        LeakyOperation();
        Rt.Collect();
        long after = TrackedObjects();
        TestContext.Out.WriteLine($"Objects before: {before}\nObjects after: {after}\nDifference: {after - before}");
        return after - before;
    }

    [Test]
    public void FindLeaks_TheDifferenceIsTheSameOnEveryCall()
    {
        LeakSetUp();
        long start = TrackedObjects();
        for (int call = 1; call <= 5; call++)
        {
            Assert.That(FindLeaks(), Is.EqualTo(2), $"call {call}");
            Assert.That(TrackedObjects(), Is.EqualTo(start + 2 * call));
        }
        _cache.Dispose();
        Rt.Collect();
        Assert.That(TrackedObjects(), Is.EqualTo(start - 1), "without the cache, everything goes");
    }

    [Test]
    public void FindLeaks_ByType_NamesTheLeakingType()
    {
        LeakSetUp();
        long perCall = 2 * (Head + sizeof(Holder));
        long previousCount = 0, previousBytes = 0;
        for (int call = 1; call <= 4; call++)
        {
            LeakyOperation();
            Rt.Collect();
            IReadOnlyList<ObjectTypeCount> census = Rt.CountObjectsByType();
            ObjectTypeCount leak = census.Single(c => c.Type == _leaky.Handle);
            Assert.That((leak.Count - previousCount, leak.Bytes - previousBytes), Is.EqualTo((2L, perCall)), $"call {call}");
            (previousCount, previousBytes) = (leak.Count, leak.Bytes);
            Assert.That(census.Any(c => c.Name == "Temp"), Is.False);
            Assert.That(census.Single(c => c.Name == "list").Count, Is.EqualTo(1));
        }
        for (int call = 0; call < 100; call++)
            LeakyOperation();
        Rt.Collect();
        ObjectTypeCount top = Rt.CountObjectsByType()[0];
        Assert.That((top.Name, top.Count, top.Bytes), Is.EqualTo(("Leaky", 208L, 104 * perCall)));
    }

    [Test]
    public void FindLeaks_WithTracemalloc_PointsAtTheLinesThatLeak()
    {
        LeakSetUp();
        Tracemalloc.Start();
        LeakyOperation();
        Rt.Collect();
        using TraceSnapshot first = Tracemalloc.TakeSnapshot();
        for (int call = 0; call < 10; call++)
            LeakyOperation();
        Rt.Collect();
        using TraceSnapshot second = Tracemalloc.TakeSnapshot();
        IReadOnlyList<StatisticDiff> diff = second.CompareTo(first, PaStatKey.Lineno);
        foreach (StatisticDiff d in diff.Take(3))
            TestContext.Out.WriteLine(d);
        long each = Head + sizeof(Holder);
        Assert.That(diff.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            $"leak.cs:2: size={11 * each} B (+{10 * each} B), count=11 (+10), average={each} B",
            $"leak.cs:1: size={11 * each} B (+{10 * each} B), count=11 (+10), average={each} B",
        }), "the temporaries, allocated without a site, died between the snapshots and are in neither");
    }
}
