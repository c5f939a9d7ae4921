using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// Thresholds and automatic collection, checked against a model of CPython's counters: 3.11's
/// _PyObject_GC_Link (count, then collect at the allocation that passes threshold 0, before tracking the
/// new object) and 3.12's gc_collect_generations (the oldest generation past its threshold; a full
/// collection only when long_lived_pending &gt; long_lived_total / 4).
/// </summary>
[TestFixture]
public sealed unsafe class AutomaticCollectionTests : RuntimeFixture
{
    /// <summary>The counters of gcmodule.c for a program that keeps every object it allocates.</summary>
    private sealed class CounterModel((int, int, int) thresholds)
    {
        private readonly int[] _threshold = [thresholds.Item1, thresholds.Item2, thresholds.Item3];
        private readonly long[] _size = new long[3];
        private long _pending, _total;

        public long[] Count { get; } = new long[3];
        public bool Enabled { get; set; } = true;
        /// <summary>Times generation 2 passed its threshold but waited for the long-lived rule.</summary>
        public int FullCollectionsPostponed { get; private set; }

        /// <summary>A GC allocation; returns the generation it collected, or -1.</summary>
        public int Allocate()
        {
            int collected = -1;
            Count[0]++;
            if (Count[0] > _threshold[0] && Enabled && _threshold[0] != 0)
            {
                for (int i = 2; i >= 0; i--)
                {
                    if (Count[i] <= _threshold[i])
                        continue;
                    if (i == 2 && _pending < _total / 4)
                    {
                        FullCollectionsPostponed++;
                        continue;
                    }
                    Collect(i);
                    collected = i;
                    break;
                }
            }
            _size[0]++; // tracked after the collection
            return collected;
        }

        /// <summary>gc_collect_main's bookkeeping when nothing is unreachable.</summary>
        public void Collect(int generation)
        {
            if (generation < 2)
                Count[generation + 1]++;
            for (int i = 0; i <= generation; i++)
                Count[i] = 0;
            for (int i = 0; i < generation; i++)
            {
                _size[generation] += _size[i];
                _size[i] = 0;
            }
            if (generation < 2)
            {
                if (generation == 1)
                    _pending += _size[generation];
                _size[generation + 1] += _size[generation];
                _size[generation] = 0;
            }
            else
            {
                _pending = 0;
                _total = _size[2];
            }
        }
    }

    private List<int> RecordAutomaticCollections()
    {
        var starts = new List<int>();
        Rt.AddCallback((phase, info) => { if (phase == GcPhase.Start) starts.Add(info.Generation); });
        return starts;
    }

    [Test]
    public void Thresholds_Are700_10_10_AndRoundTrip()
    {
        Assert.That(Rt.Thresholds, Is.EqualTo((700, 10, 10)));
        Assert.That(Rt.IsEnabled, Is.True);
        Rt.Thresholds = (5, 3, 1);
        Assert.That(Rt.Thresholds, Is.EqualTo((5, 3, 1)));
    }

    [TestCase(7, 3, 2, 3000)]
    [TestCase(5, 1, 1, 2000)]
    [TestCase(20, 10, 10, 30000)]
    public void AutomaticCollections_FollowCPythonsCounters(int t0, int t1, int t2, int allocations)
    {
        Rt.Thresholds = (t0, t1, t2);
        List<int> starts = RecordAutomaticCollections();
        var model = new CounterModel((t0, t1, t2));
        var expected = new List<int>();
        var kept = new List<PyOwned>();
        for (int i = 0; i < allocations; i++)
        {
            int g = model.Allocate();
            if (g >= 0)
                expected.Add(g);
            kept.Add(PyList.New(Rt));
            Assert.That(starts, Has.Count.EqualTo(expected.Count), $"allocation {i + 1}: collections so far");
        }
        Assert.That(starts, Is.EqualTo(expected), "the generation of every automatic collection");
        Assert.That(expected, Does.Contain(2), "the run reaches full collections");
        Assert.That(model.FullCollectionsPostponed, Is.GreaterThan(0), "and the long-lived rule postponed some");
        Assert.That(Rt.GetCount(), Is.EqualTo((model.Count[0], model.Count[1], model.Count[2])));
        kept.ForEach(o => o.Dispose());
    }

    [Test]
    public void AFullAutomaticCollection_WaitsForAQuarterOfTheLongLived_AnExplicitOneDoesNot()
    {
        var kept = Enumerable.Range(0, 100).Select(_ => PyList.New(Rt)).ToList();
        Rt.Collect(2); // long-lived total: 100, pending: 0
        List<int> starts = RecordAutomaticCollections();
        Rt.Thresholds = (1, 0, 0);
        for (int i = 0; i < 10; i++)
            kept.Add(PyList.New(Rt));
        Assert.That(starts, Does.Contain(1), "generation 1 was collected automatically");
        Assert.That(Rt.GetCount().Gen2, Is.GreaterThan(0), "generation 2 passed its threshold 0 ...");
        Assert.That(starts, Does.Not.Contain(2), "... but fewer than 25 objects are pending: no full collection");

        Assert.That(Rt.Collect(2), Is.Zero);
        Assert.That(Rt.GetStats()[2].Collections, Is.EqualTo(2), "an explicit collect(2) runs anyway");
        kept.ForEach(o => o.Dispose());
    }

    [Test]
    public void Disabled_NoAutomaticCollection_UntilEnabledAgain()
    {
        List<int> starts = RecordAutomaticCollections();
        Rt.Thresholds = (5, 10, 10);
        Rt.IsEnabled = false;
        var kept = Enumerable.Range(0, 50).Select(_ => PyList.New(Rt)).ToList();
        Assert.That(starts, Is.Empty);
        Assert.That(Rt.GetCount().Gen0, Is.EqualTo(50));
        Assert.That(Rt.Collect(0), Is.Zero, "explicit collection works while disabled");
        Assert.That(starts, Is.EqualTo(new[] { 0 }));

        Rt.IsEnabled = true;
        for (int i = 0; i < 6; i++)
            kept.Add(PyList.New(Rt));
        Assert.That(starts, Is.EqualTo(new[] { 0, 0 }), "the sixth allocation passes threshold 5");
        kept.ForEach(o => o.Dispose());
    }

    [Test]
    public void Threshold0_DisablesAutomaticCollection()
    {
        List<int> starts = RecordAutomaticCollections();
        Rt.Thresholds = (0, 10, 10);
        var kept = Enumerable.Range(0, 1000).Select(_ => PyList.New(Rt)).ToList();
        Assert.That(starts, Is.Empty);
        kept.ForEach(o => o.Dispose());
    }

    [Test]
    public void FreeingGcObjects_LowersGeneration0sCount()
    {
        PyOwned a = PyList.New(Rt), b = PyList.New(Rt);
        Assert.That(Rt.GetCount().Gen0, Is.EqualTo(2));
        a.Dispose();
        Assert.That(Rt.GetCount().Gen0, Is.EqualTo(1));
        b.Dispose();
        b.Dispose();
        Assert.That(Rt.GetCount().Gen0, Is.Zero);
        PyType plain = PyType.Define<Holder>(Rt, "Plain", PyTypeFlags.None);
        using PyOwned o = plain.New();
        Assert.That(Rt.GetCount().Gen0, Is.Zero, "only GC allocations count");
    }

    [Test]
    public void AutomaticCollection_FreesCycles_EveryListIsEitherCollectedOrStillTracked()
    {
        Rt.Thresholds = (10, 10, 10);
        const int cycles = 500;
        for (int i = 0; i < cycles; i++)
        {
            using PyOwned a = PyList.New(Rt), b = PyList.New(Rt);
            PyList.Append(a, b);
            PyList.Append(b, a);
        }
        long collected = Rt.GetStats().Sum(s => s.Collected);
        Assert.That(collected, Is.GreaterThan(0), "automatic collections found cycles");
        Assert.That(collected + TrackedObjects(), Is.EqualTo(2 * cycles));
        Assert.That(Rt.Collect() + collected, Is.EqualTo(2 * cycles), "an explicit collection finds the rest");
    }
}
