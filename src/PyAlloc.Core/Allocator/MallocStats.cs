using System.Text;
using PyAlloc.Core.Abi;

namespace PyAlloc.Core.Allocator;

/// <summary>
/// The allocator's figures are <c>pa_malloc_stats</c> (<see cref="PaMallocStats"/>, the header's type,
/// generated into src/PyAlloc.Abi); this prints them.
/// </summary>
internal static class MallocStatsTable
{
    /// <summary>
    /// The table <c>pa_print_malloc_stats</c> prints, in the manner of CPython's
    /// <c>sys._debugmallocstats()</c>.
    /// </summary>
    public static string Format(this in PaMallocStats s)
    {
        var sb = new StringBuilder(4096);
        sb.Append("Small block threshold = ").Append(Geometry.SmallRequestThreshold)
          .Append(", in ").Append(Geometry.NumSizeClasses).Append(" size classes.\n\n");
        sb.Append("class   size   num pools   blocks in use  avail blocks\n");
        sb.Append("-----   ----   ---------   -------------  ------------\n");
        for (int i = 0; i < Geometry.NumSizeClasses; i++)
        {
            PaSizeClassStats c = s.Classes[i];
            if (c.Pools == 0)
                continue;
            sb.Append($"{i,5}  {c.BlockSize,5}  {c.Pools,10}  {c.BlocksInUse,14}  {c.FreeBlocks,12}\n");
        }
        sb.Append('\n');
        Line(sb, "# arenas allocated total", s.ArenasAllocated);
        Line(sb, "# arenas reclaimed", s.ArenasReclaimed);
        Line(sb, "# arenas highwater mark", s.ArenasHighwater);
        Line(sb, "# arenas allocated current", s.ArenasCurrent);
        Line(sb, $"{s.ArenasCurrent} arenas * {Geometry.ArenaSize} bytes/arena", s.ArenaBytes);
        sb.Append('\n');
        Line(sb, "# bytes in allocated blocks", s.BytesInUsedBlocks);
        Line(sb, "# bytes in available blocks", s.BytesInFreeBlocks);
        Line(sb, $"{s.PoolsFree} unused pools * {Geometry.PoolSize} bytes", s.BytesInFreePools);
        Line(sb, "# bytes lost to pool headers", s.BytesPoolHeaders);
        Line(sb, "# bytes lost to quantization", s.BytesQuantization);
        Line(sb, "# bytes lost to arena alignment", 0);
        Line(sb, "Total", s.BytesInUsedBlocks + s.BytesInFreeBlocks + s.BytesInFreePools
                          + s.BytesPoolHeaders + s.BytesQuantization);
        sb.Append('\n');
        Line(sb, "# large blocks (system allocator)", s.LargeBlocks);
        Line(sb, "# bytes in large blocks", s.LargeBytes);
        Line(sb, "# arenas in runtimes' object heaps", s.ArenasInRuntimes);
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string label, nuint value) =>
        sb.Append($"{label,-35}= {value,20:N0}\n");
}
