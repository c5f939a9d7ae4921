using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace PyAlloc.Core.Allocator;

/// <summary>Figures for one size class: <c>pa_size_class_stats</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SizeClassStats
{
    /// <summary>Bytes per block.</summary>
    public nuint BlockSize;
    /// <summary>Pools currently carved for this class.</summary>
    public nuint Pools;
    /// <summary>Live blocks.</summary>
    public nuint BlocksInUse;
    /// <summary>Free blocks in those pools, freed or never used.</summary>
    public nuint FreeBlocks;
}

/// <summary>The 32 per-class records of <see cref="MallocStats"/>.</summary>
[InlineArray(Geometry.NumSizeClasses)]
public struct SizeClassStatsArray
{
    private SizeClassStats _first;
}

/// <summary>
/// The allocator's figures: <c>pa_malloc_stats</c>, field for field.
/// </summary>
/// <remarks>See include/pyalloc.h for what each field counts.</remarks>
[StructLayout(LayoutKind.Sequential)]
public struct MallocStats
{
    /// <summary>Arenas mapped since the process started.</summary>
    public nuint ArenasAllocated;
    /// <summary>Arenas returned to the OS since then.</summary>
    public nuint ArenasReclaimed;
    /// <summary>Most arenas mapped at one time.</summary>
    public nuint ArenasHighwater;
    /// <summary>Arenas mapped now.</summary>
    public nuint ArenasCurrent;
    /// <summary>ArenasCurrent * 1 MiB.</summary>
    public nuint ArenaBytes;
    /// <summary>Pools carved for a size class now.</summary>
    public nuint PoolsInUse;
    /// <summary>Pools in current arenas not carved for any class.</summary>
    public nuint PoolsFree;
    /// <summary>Sum over live pool blocks of their class size.</summary>
    public nuint BytesInUsedBlocks;
    /// <summary>Free blocks inside carved pools.</summary>
    public nuint BytesInFreeBlocks;
    /// <summary>PoolsFree * 16 KiB.</summary>
    public nuint BytesInFreePools;
    /// <summary>PoolsInUse * the 48-byte pool header.</summary>
    public nuint BytesPoolHeaders;
    /// <summary>Pool tails too small for one more block.</summary>
    public nuint BytesQuantization;
    /// <summary>Live blocks from the system allocator.</summary>
    public nuint LargeBlocks;
    /// <summary>Their usable bytes.</summary>
    public nuint LargeBytes;
    /// <summary>Arenas mapped now by runtimes' object heaps (not in the figures above).</summary>
    public nuint ArenasInRuntimes;
    /// <summary>Per size class figures, class i holding 16 * (i + 1)-byte blocks.</summary>
    public SizeClassStatsArray Classes;

    /// <summary>
    /// The table <c>pa_print_malloc_stats</c> prints, in the manner of CPython's
    /// <c>sys._debugmallocstats()</c>.
    /// </summary>
    public readonly string Format()
    {
        var sb = new StringBuilder(4096);
        sb.Append("Small block threshold = ").Append(Geometry.SmallRequestThreshold)
          .Append(", in ").Append(Geometry.NumSizeClasses).Append(" size classes.\n\n");
        sb.Append("class   size   num pools   blocks in use  avail blocks\n");
        sb.Append("-----   ----   ---------   -------------  ------------\n");
        for (int i = 0; i < Geometry.NumSizeClasses; i++)
        {
            SizeClassStats c = Classes[i];
            if (c.Pools == 0)
                continue;
            sb.Append($"{i,5}  {c.BlockSize,5}  {c.Pools,10}  {c.BlocksInUse,14}  {c.FreeBlocks,12}\n");
        }
        sb.Append('\n');
        Line(sb, "# arenas allocated total", ArenasAllocated);
        Line(sb, "# arenas reclaimed", ArenasReclaimed);
        Line(sb, "# arenas highwater mark", ArenasHighwater);
        Line(sb, "# arenas allocated current", ArenasCurrent);
        Line(sb, $"{ArenasCurrent} arenas * {Geometry.ArenaSize} bytes/arena", ArenaBytes);
        sb.Append('\n');
        Line(sb, "# bytes in allocated blocks", BytesInUsedBlocks);
        Line(sb, "# bytes in available blocks", BytesInFreeBlocks);
        Line(sb, $"{PoolsFree} unused pools * {Geometry.PoolSize} bytes", BytesInFreePools);
        Line(sb, "# bytes lost to pool headers", BytesPoolHeaders);
        Line(sb, "# bytes lost to quantization", BytesQuantization);
        Line(sb, "# bytes lost to arena alignment", 0);
        Line(sb, "Total", BytesInUsedBlocks + BytesInFreeBlocks + BytesInFreePools
                          + BytesPoolHeaders + BytesQuantization);
        sb.Append('\n');
        Line(sb, "# large blocks (system allocator)", LargeBlocks);
        Line(sb, "# bytes in large blocks", LargeBytes);
        Line(sb, "# arenas in runtimes' object heaps", ArenasInRuntimes);
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string label, nuint value) =>
        sb.Append($"{label,-35}= {value,20:N0}\n");
}
