using System;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Tracing;

/* ============================================================================
   The pa_*_format calls: Formatting's text into a caller's C buffer

   Each takes the C structs (pa_frame, pa_statistic, pa_statistic_diff) the
   caller holds, checks them, builds the text with Formatting, and copies it
   as snprintf does: as much as fits in cap - 1 bytes, NUL-terminated when
   cap > 0; the result is the text's whole length in bytes, so a caller can
   size its buffer.  Reports, not hot paths: the text is a managed string.
============================================================================ */

/// <summary>pa_traceback_format, pa_statistic_format, pa_statistic_diff_format (see the comment above).</summary>
internal static unsafe class FormatToBuffer
{
    /// <summary>
    /// pa_traceback_format: Traceback.format(limit, most_recent_first) of frames[0..count) (most recent
    /// first, as pa_tracemalloc_get_traceback gives them).
    /// </summary>
    /// <returns>The text's length, or -1 with the error set (a bad count, a NULL, a frame without a file).</returns>
    public static int Traceback(PaFrame* frames, int count, int limit, bool mostRecentFirst, byte* buffer, nuint cap)
    {
        if (count < 0 || (frames == null && count > 0) || count > Tracemalloc.MaxFrames || (buffer == null && cap != 0))
            return Errors.Fail($"pa_traceback_format: nframes {count} (0 to {Tracemalloc.MaxFrames}), frames NULL, or buf NULL with cap > 0");
        var values = new (string, int)[count];
        for (int i = 0; i < count; i++)
        {
            // Invariants: values[0..i) are frames[0..i), each with a file name.
            if (frames[i].Filename == null)
                return Errors.Fail($"pa_traceback_format: frame {i} has no filename");
            values[i] = (FileNames.Decode(frames[i].Filename), frames[i].Lineno);
        }
        return Write(Formatting.Traceback(values, limit, mostRecentFirst), buffer, cap);
    }

    /// <summary>pa_statistic_format: str(Statistic). The length, or -1 with the error set for a NULL.</summary>
    public static int Statistic(PaStatistic* st, byte* buffer, nuint cap)
    {
        if (st == null || (buffer == null && cap != 0))
            return Errors.Fail("pa_statistic_format: st is NULL, or buf is NULL with cap > 0");
        (string file, int line) = DisplayFrame(st->Filename, st->Lineno, st->Frames, st->Nframes);
        return Write(Formatting.Statistic(file, line, st->Size, st->Count), buffer, cap);
    }

    /// <summary>pa_statistic_diff_format: str(StatisticDiff). The length, or -1 with the error set for a NULL.</summary>
    public static int StatisticDiff(PaStatisticDiff* st, byte* buffer, nuint cap)
    {
        if (st == null || (buffer == null && cap != 0))
            return Errors.Fail("pa_statistic_diff_format: st is NULL, or buf is NULL with cap > 0");
        (string file, int line) = DisplayFrame(st->Filename, st->Lineno, st->Frames, st->Nframes);
        return Write(Formatting.StatisticDiff(file, line, st->Size, st->SizeDiff, st->Count, st->CountDiff), buffer, cap);
    }

    /* str(Traceback) is its oldest frame (CPython keeps frames oldest first): the last here. */
    private static (string, int) DisplayFrame(byte* file, int line, PaFrame* frames, int count)
    {
        if (frames != null && count > 0)
            return (FileNames.Decode(frames[count - 1].Filename), frames[count - 1].Lineno);
        return (file != null ? FileNames.Decode(file) : "<unknown>", line);
    }

    /* snprintf's contract: as much as fits, NUL-terminated when cap > 0; the whole length returned. */
    private static int Write(string text, byte* buffer, nuint cap)
    {
        byte[] bytes = FileNames.Encode(text);
        if (cap > 0)
        {
            int n = (int)Math.Min((nuint)bytes.Length, cap - 1);
            bytes.AsSpan(0, n).CopyTo(new Span<byte>(buffer, n));
            buffer[n] = 0;
        }
        return bytes.Length;
    }
}
