using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Core.Gc;
using PyAlloc.Core.Objects;
using static PyAlloc.Tests.Agreement.LayoutMirror;

namespace PyAlloc.Tests.Agreement;

/// <summary>
/// native/entry/gc_visit.h mirrors the GC head and the collector's visitor structs (the C
/// visit procedures get the C# visitor as their arg): gcc's offsets and constants must be
/// the C# ones.
/// </summary>
[TestFixture]
public sealed unsafe class GcVisitLayoutTests
{
    private static readonly Field[] Mirrored =
    [
        new("pa__gc_head", "next", typeof(GcHead), nameof(GcHead.Next)),
        new("pa__gc_head", "prev", typeof(GcHead), nameof(GcHead.Prev)),
        new("pa__decref_arg", "parent", typeof(Collector.DecrefVisitor), nameof(Collector.DecrefVisitor.Parent)),
        new("pa__decref_arg", "bad", typeof(Collector.DecrefVisitor), nameof(Collector.DecrefVisitor.Bad)),
        new("pa__decref_ring", "parent", typeof(Collector.DecrefRing), nameof(Collector.DecrefRing.Parent)),
        new("pa__decref_ring", "bad", typeof(Collector.DecrefRing), nameof(Collector.DecrefRing.Bad)),
        new("pa__decref_ring", "bad_parent", typeof(Collector.DecrefRing), nameof(Collector.DecrefRing.BadParent)),
        new("pa__decref_ring", "head", typeof(Collector.DecrefRing), nameof(Collector.DecrefRing.Head)),
        new("pa__decref_ring", "count", typeof(Collector.DecrefRing), nameof(Collector.DecrefRing.Count)),
        new("pa__decref_ring", "target", typeof(Collector.DecrefRing), nameof(Collector.DecrefRing.Target)),
        new("pa__decref_ring", "from", typeof(Collector.DecrefRing), nameof(Collector.DecrefRing.From)),
        new("pa__reachable_arg", "young", typeof(Collector.ReachableVisitor), nameof(Collector.ReachableVisitor.Young)),
        new("pa__move_arg", "to", typeof(Collector.MoveVisitor), nameof(Collector.MoveVisitor.To)),
        new("pa__referrer_arg", "target", typeof(GcModule.ReferrerVisitor), nameof(GcModule.ReferrerVisitor.Target)),
        new("pa__referent_arg", "out", typeof(GcModule.Sink), "_output"),
        new("pa__referent_arg", "cap", typeof(GcModule.Sink), "_cap"),
        new("pa__referent_arg", "total", typeof(GcModule.Sink), nameof(GcModule.Sink.Total)),
    ];

    [Test]
    public void MirroredFields_AndFlags_AreTheCoreOnes()
    {
        Constant[] constants =
        [
            new("PA__NEXT_MASK_UNREACHABLE", (long)GcHead.NextMaskUnreachable),
            new("PA__PREV_MASK_COLLECTING", (long)GcHead.PrevMaskCollecting),
            new("PA__PREV_SHIFT", GcHead.PrevShift),
            new("PA__PREV_MASK_FLAGS", (long)GcHead.PrevMaskFlags),
            new("sizeof(pa__gc_head)", sizeof(GcHead)),
            new("PA__DECREF_RING", Collector.DecrefRing.Size),
            new("sizeof(pa__decref_ring)", sizeof(Collector.DecrefRing)),
            // The C procedure reads pa__referent_arg at the start of the ReferentVisitor.
            new("offsetof(pa__referent_arg, out)", (long)Marshal.OffsetOf<GcModule.ReferentVisitor>(nameof(GcModule.ReferentVisitor.Sink))),
        ];
        var problems = Problems("gc_visit.h", Mirrored, constants);
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }
}
