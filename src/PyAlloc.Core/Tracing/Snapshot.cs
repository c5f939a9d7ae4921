using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using PyAlloc.Core.Abi;
using PyAlloc.Core.Platform;
using PyAlloc.Core.Support;

namespace PyAlloc.Core.Tracing;

/// <summary>One filter of Snapshot.filter_traces, as managed values.</summary>
internal readonly record struct TraceFilterSpec(bool IsDomainFilter, bool Inclusive, string Pattern, int Lineno, bool AllFrames, bool HasDomain, uint Domain)
{
    /* Filter._match_frame_impl: fnmatch on the file, then the line unless lineno is None (here: 0 or less). */
    private bool MatchFrame(string file, int line) => FnMatch.Match(file, Pattern) && (Lineno <= 0 || line == Lineno);

    /// <summary>BaseFilter._match(trace): Filter's or DomainFilter's rule, exactly as tracemalloc.py.</summary>
    public bool Match(uint domain, (string File, int Line)[] mostRecentFirst)
    {
        if (IsDomainFilter)
            return (domain == Domain) ^ !Inclusive;
        bool result;
        if (AllFrames)
        {
            bool any = false;
            foreach (var (file, line) in mostRecentFirst)
            {
                if (MatchFrame(file, line))
                {
                    any = true;
                    break;
                }
            }
            result = any ? Inclusive : !Inclusive;
        }
        else
        {
            result = mostRecentFirst.Length > 0 && (MatchFrame(mostRecentFirst[0].File, mostRecentFirst[0].Line) ^ !Inclusive);
        }
        if (HasDomain)
            return Inclusive ? result && domain == Domain : result || domain != Domain;
        return result;
    }

    /* _normalize_filename: a pattern for compiled Python files matches the source. */
    public static string Normalize(string pattern) =>
        pattern.EndsWith(".pyc", StringComparison.Ordinal) ? pattern[..^1] : pattern;
}

internal enum StatKey
{
    Filename = 0,
    Lineno = 1,
    Traceback = 2,
}

/* ============================================================================
   Snapshots (CPython's Lib/tracemalloc.py)

   A snapshot is a copy of the traces with every frame already turned into a
   (filename, line) pair: code addresses are symbolised when the snapshot is
   taken, so a snapshot never depends on the tracer or on the program's code
   afterwards, and can be dumped to a file and loaded in another process.

   Frames are kept in CPython's "most recent first" order; statistics are
   grouped and sorted exactly as Snapshot.statistics / compare_to do, and
   formatted as str(Statistic) / str(StatisticDiff).  The strings and frames
   handed to C live in native memory owned by the snapshot.
============================================================================ */

/// <summary>A tracemalloc snapshot (<c>pa_snapshot</c>).</summary>
internal sealed unsafe class Snapshot : IDisposable
{
    private const ulong FileMagic = 0x50414E5342414E53UL;   // "SNABSNAP" (LE bytes: S N A B S N A P)
    private const uint FileVersion = 2;       // 2: each trace has its domain; 1 (no domains) still loads

    /// <summary>A traceback of the snapshot: its frames in native memory and as values.</summary>
    private sealed class TracebackEntry
    {
        public PaFrame* Frames;
        public (string File, int Line)[] Values = [];   // most recent first
    }

    private readonly List<TracebackEntry> _tracebacks = new();
    private readonly Dictionary<string, nint> _strings = new();
    private readonly List<nint> _blocks = new();     // native memory to free
    private nuint[] _sizes = [];
    private int[] _tracebackOf = [];
    private uint[] _domains = [];
    private readonly Group[]?[] _groups = new Group[]?[5];   // by key; then filename and lineno cumulative

    /// <summary>The traceback limit (nframe) tracing used.</summary>
    public int TracebackLimit { get; private set; }

    /// <summary>Number of traces.</summary>
    public int TraceCount => _sizes.Length;

    private Snapshot() { }

    // ---------------------------------------------------------- building

    /// <summary>tracemalloc.take_snapshot(); null with the error set when not tracing.</summary>
    public static Snapshot? Take()
    {
        _ = Tracemalloc.Flag;   // first contact: PYALLOC_TRACEMALLOC applies
        if (!Tracemalloc.IsTracing)
        {
            Errors.Set("pa_tracemalloc_take_snapshot: tracemalloc is not tracing (call pa_tracemalloc_start first)");
            return null;
        }
        var snapshot = new Snapshot();
        // Under the tracer's lock, only copies: the traces and the raw frames of each
        // distinct traceback (tracebacks die when tracing stops or traces are cleared).
        // Symbolising (addr2line) happens after the lock is released, so allocating
        // threads never wait for it.
        (uint Domain, nuint Size, nint Traceback)[] traces;
        var rawFrames = new Dictionary<nint, TraceFrame[]>();
        Tracemalloc.Lock();
        try
        {
            traces = Tracemalloc.CopyTracesLocked(out int limit);
            snapshot.TracebackLimit = limit;
            foreach (var (_, _, traceback) in traces)
            {
                if (rawFrames.ContainsKey(traceback))
                    continue;
                Traceback* t = (Traceback*)traceback;
                var frames = new TraceFrame[t->FrameCount];
                for (int f = 0; f < frames.Length; f++)
                    frames[f] = t->Frames[f];
                rawFrames[traceback] = frames;
            }
        }
        finally
        {
            Tracemalloc.Unlock();
        }

        var addresses = new HashSet<nuint>();
        foreach (TraceFrame[] frames in rawFrames.Values)
        {
            foreach (TraceFrame f in frames)
            {
                if (f.File == null)
                    addresses.Add(f.Address);
            }
        }
        Symbolizer.Prepare(addresses);

        var byPointer = new Dictionary<nint, int>();
        var byContent = new Dictionary<string, int>();
        snapshot._sizes = new nuint[traces.Length];
        snapshot._tracebackOf = new int[traces.Length];
        snapshot._domains = new uint[traces.Length];
        for (int i = 0; i < traces.Length; i++)
        {
            if (!byPointer.TryGetValue(traces[i].Traceback, out int index))
            {
                index = snapshot.InternTraceback(Symbolizer.Describe(rawFrames[traces[i].Traceback]), byContent);
                byPointer[traces[i].Traceback] = index;
            }
            snapshot._sizes[i] = traces[i].Size;
            snapshot._tracebackOf[i] = index;
            snapshot._domains[i] = traces[i].Domain;
        }
        return snapshot;
    }

    private int InternTraceback((string File, int Line)[] values, Dictionary<string, int> byContent)
    {
        var key = new StringBuilder();
        foreach (var (file, line) in values)
            key.Append(file).Append('\0').Append(line).Append('\0');
        string k = key.ToString();
        if (byContent.TryGetValue(k, out int index))
            return index;
        var entry = new TracebackEntry { Values = values, Frames = AllocFrames(values) };
        _tracebacks.Add(entry);
        byContent[k] = _tracebacks.Count - 1;
        return _tracebacks.Count - 1;
    }

    private PaFrame* AllocFrames((string File, int Line)[] values)
    {
        var frames = (PaFrame*)NativeMemory.Alloc((nuint)Math.Max(1, values.Length), (nuint)sizeof(PaFrame));
        _blocks.Add((nint)frames);
        for (int i = 0; i < values.Length; i++)
            frames[i] = new PaFrame { Filename = String(values[i].File), Lineno = values[i].Line };
        return frames;
    }

    /* The snapshot's NUL-terminated copy of s. */
    private byte* String(string s)
    {
        if (_strings.TryGetValue(s, out nint p))
            return (byte*)p;
        byte[] bytes = FileNames.Encode(s);
        int n = bytes.Length;
        byte* copy = (byte*)NativeMemory.Alloc((nuint)n + 1);
        bytes.CopyTo(new Span<byte>(copy, n));
        copy[n] = 0;
        _blocks.Add((nint)copy);
        _strings[s] = (nint)copy;
        return copy;
    }

    /// <summary>Frees the snapshot's native memory; every pointer it handed out dies.</summary>
    public void Dispose()
    {
        foreach (nint block in _blocks)
            NativeMemory.Free((void*)block);
        _blocks.Clear();
        _strings.Clear();
    }

    // ------------------------------------------------------------ traces

    /// <summary>Snapshot.traces[index]: its domain, size and traceback (most recent frame first).</summary>
    /// <returns>False for an index out of range.</returns>
    public bool GetTrace(nuint index, out PaTrace trace)
    {
        trace = default;
        if (index >= (nuint)_sizes.Length)
            return false;
        TracebackEntry t = _tracebacks[_tracebackOf[(int)index]];
        trace = new PaTrace { Domain = _domains[(int)index], Size = _sizes[(int)index], Frames = t.Frames, Nframes = t.Values.Length };
        return true;
    }

    /// <summary>pa_snapshot_get_trace: <see cref="GetTrace(nuint, out PaTrace)"/> into *output (not null).</summary>
    /// <returns>0, or -1 with the error set for an index out of range.</returns>
    public int GetTrace(nuint index, PaTrace* output) =>
        GetTrace(index, out *output) ? 0
            : Errors.Fail($"pa_snapshot_get_trace: index {index} out of range ({TraceCount} traces)");

    // -------------------------------------------------------- statistics

    /// <summary>
    /// True when <paramref name="key"/> is a StatKey that <paramref name="cumulative"/> mode allows
    /// (CPython's ValueError for a cumulative traceback); else false with the error set.
    /// </summary>
    public static bool CheckKey(int key, bool cumulative, string caller)
    {
        if (key is < 0 or > 2)
        {
            Errors.Set($"{caller}: unknown key {key} (PA_STAT_FILENAME, PA_STAT_LINENO or PA_STAT_TRACEBACK)");
            return false;
        }
        if (cumulative && key == 2)
        {
            Errors.Set($"{caller}: cumulative mode cannot be used with key type PA_STAT_TRACEBACK (CPython's ValueError)");
            return false;
        }
        return true;
    }

    /// <summary>A group of traces: one Statistic.</summary>
    private sealed class Group
    {
        public (string File, int Line)[] Frames = [];   // most recent first
        public PaFrame* NativeFrames;
        public nuint Size;
        public nuint Count;
    }

    /// <summary>Snapshot.statistics(key): the groups, largest first, into output[0..cap).</summary>
    /// <returns>The number of groups.</returns>
    public nuint Statistics(StatKey key, bool cumulative, PaStatistic* output, nuint cap)
    {
        Group[] groups = Groups(key, cumulative);
        for (int i = 0; i < groups.Length && (nuint)i < cap; i++)
        {
            Group g = groups[i];
            output[i] = new PaStatistic
            {
                Filename = g.NativeFrames[0].Filename,
                Lineno = g.NativeFrames[0].Lineno,
                Frames = g.NativeFrames,
                Nframes = g.Frames.Length,
                Size = g.Size,
                Count = g.Count,
            };
        }
        return (nuint)groups.Length;
    }

    /// <summary>Snapshot.compare_to(old, key), sorted as CPython, into output[0..cap).</summary>
    public nuint CompareTo(Snapshot old, StatKey key, bool cumulative, PaStatisticDiff* output, nuint cap)
    {
        var oldGroups = new Dictionary<string, Group>();
        foreach (Group g in old.Groups(key, cumulative))
            oldGroups[KeyOf(g.Frames)] = g;
        var diffs = new List<(Group Group, nint SizeDiff, nint CountDiff, nuint Size, nuint Count)>();
        foreach (Group g in Groups(key, cumulative))
        {
            string k = KeyOf(g.Frames);
            if (oldGroups.Remove(k, out Group? previous))
                diffs.Add((g, (nint)g.Size - (nint)previous.Size, (nint)g.Count - (nint)previous.Count, g.Size, g.Count));
            else
                diffs.Add((g, (nint)g.Size, (nint)g.Count, g.Size, g.Count));
        }
        foreach (Group g in oldGroups.Values)
            diffs.Add((g, -(nint)g.Size, -(nint)g.Count, 0, 0));
        // StatisticDiff._sort_key: (abs(size_diff), size, abs(count_diff), count, traceback), reversed.
        diffs.Sort((a, b) =>
        {
            int c = Math.Abs(b.SizeDiff).CompareTo(Math.Abs(a.SizeDiff));
            if (c == 0) c = b.Size.CompareTo(a.Size);
            if (c == 0) c = Math.Abs(b.CountDiff).CompareTo(Math.Abs(a.CountDiff));
            if (c == 0) c = b.Count.CompareTo(a.Count);
            if (c == 0) c = CompareTracebacks(b.Group.Frames, a.Group.Frames);
            return c;
        });
        for (int i = 0; i < diffs.Count && (nuint)i < cap; i++)
        {
            var d = diffs[i];
            output[i] = new PaStatisticDiff
            {
                Filename = d.Group.NativeFrames[0].Filename,
                Lineno = d.Group.NativeFrames[0].Lineno,
                Frames = d.Group.NativeFrames,
                Nframes = d.Group.Frames.Length,
                Size = d.Size,
                SizeDiff = d.SizeDiff,
                Count = d.Count,
                CountDiff = d.CountDiff,
            };
        }
        return (nuint)diffs.Count;
    }

    /* Snapshot._group_by(key, cumulative) then sorted by Statistic._sort_key, reversed; cached.
       Cumulative (key filename or lineno only): every frame of a trace counts the trace, so a
       trace with two frames in one file counts twice for that file, as in CPython. */
    private Group[] Groups(StatKey key, bool cumulative = false)
    {
        int slot = cumulative ? 3 + (key == StatKey.Lineno ? 1 : 0) : (int)key;
        if (_groups[slot] is { } cached)
            return cached;
        var byKey = new Dictionary<string, Group>();
        void Add((string File, int Line)[] groupFrames, nuint size)
        {
            string k = KeyOf(groupFrames);
            if (!byKey.TryGetValue(k, out Group? g))
            {
                g = new Group { Frames = groupFrames, NativeFrames = AllocFrames(groupFrames) };
                byKey[k] = g;
            }
            g.Size += size;
            g.Count++;
        }
        for (int i = 0; i < _sizes.Length; i++)
        {
            var frames = _tracebacks[_tracebackOf[i]].Values;
            if (cumulative)
            {
                foreach (var frame in frames)
                    Add(key == StatKey.Lineno ? [frame] : [(frame.File, 0)], _sizes[i]);
                continue;
            }
            Add(key switch
            {
                StatKey.Traceback => frames,
                StatKey.Lineno => frames.Length > 0 ? [frames[0]] : [],
                _ => frames.Length > 0 ? [(frames[0].File, 0)] : [],
            }, _sizes[i]);
        }
        var groups = new List<Group>(byKey.Values);
        groups.Sort((a, b) =>
        {
            int c = b.Size.CompareTo(a.Size);
            if (c == 0) c = b.Count.CompareTo(a.Count);
            if (c == 0) c = CompareTracebacks(b.Frames, a.Frames);
            return c;
        });
        return _groups[slot] = groups.ToArray();
    }

    private static string KeyOf((string File, int Line)[] frames)
    {
        var sb = new StringBuilder();
        foreach (var (file, line) in frames)
            sb.Append(file).Append('\0').Append(line).Append('\0');
        return sb.ToString();
    }

    /* Traceback.__lt__: CPython compares the frames oldest first, as tuples. */
    private static int CompareTracebacks((string File, int Line)[] a, (string File, int Line)[] b)
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var fa = a[a.Length - 1 - i];
            var fb = b[b.Length - 1 - i];
            int c = string.CompareOrdinal(fa.File, fb.File);
            if (c == 0) c = fa.Line.CompareTo(fb.Line);
            if (c != 0) return c;
        }
        return a.Length.CompareTo(b.Length);
    }

    // ------------------------------------------------------------- filter

    /// <summary>
    /// Snapshot.filter_traces(filters), CPython's rules: with inclusive filters, a trace is kept
    /// only if one of them matches it; it is dropped if any exclusive filter does not match it
    /// (an exclusive filter "matches" what it lets through). No filter: a copy.
    /// </summary>
    public Snapshot FilterTraces(ReadOnlySpan<TraceFilterSpec> filters)
    {
        var include = new List<TraceFilterSpec>();
        var exclude = new List<TraceFilterSpec>();
        foreach (TraceFilterSpec f in filters)
            (f.Inclusive ? include : exclude).Add(f);
        var result = new Snapshot { TracebackLimit = TracebackLimit };
        var byContent = new Dictionary<string, int>();
        var remap = new Dictionary<int, int>();
        var sizes = new List<nuint>();
        var tracebackOf = new List<int>();
        var domains = new List<uint>();
        for (int i = 0; i < _sizes.Length; i++)
        {
            // Invariants: result holds, in order, the traces before i that pass every filter.
            var frames = _tracebacks[_tracebackOf[i]].Values;
            if (!Passes(include, exclude, _domains[i], frames))
                continue;
            if (!remap.TryGetValue(_tracebackOf[i], out int index))
                remap[_tracebackOf[i]] = index = result.InternTraceback(frames, byContent);
            sizes.Add(_sizes[i]);
            tracebackOf.Add(index);
            domains.Add(_domains[i]);
        }
        result._sizes = sizes.ToArray();
        result._tracebackOf = tracebackOf.ToArray();
        result._domains = domains.ToArray();
        return result;
    }

    /* Snapshot._filter_trace. */
    private static bool Passes(List<TraceFilterSpec> include, List<TraceFilterSpec> exclude, uint domain, (string File, int Line)[] frames)
    {
        if (include.Count > 0 && !include.Exists(f => f.Match(domain, frames)))
            return false;
        return !exclude.Exists(f => !f.Match(domain, frames));
    }

    /// <summary>
    /// pa_snapshot_filter_traces: <see cref="FilterTraces(ReadOnlySpan{TraceFilterSpec})"/> of the C filters
    /// filters[0..count) (at most 4096; filters may be NULL only for count 0).
    /// </summary>
    /// <returns>The new snapshot, or null with the error naming the first bad filter.</returns>
    public Snapshot? FilterTraces(PaFilter* filters, nuint count)
    {
        const string caller = "pa_snapshot_filter_traces";
        if (filters == null && count != 0)
            return NullWith($"{caller}: filters is NULL but nfilters is {count}");
        if (count > 4096)
            return NullWith($"{caller}: {count} filters (at most 4096)");
        var specs = new TraceFilterSpec[(int)count];
        for (int i = 0; i < specs.Length; i++)
        {
            // Invariants: specs[0..i) are filters[0..i), each checked.
            PaFilter f = filters[i];
            if (f.Kind is not (PaFilterKind.Filter or PaFilterKind.DomainFilter))
                return NullWith($"{caller}: filter {i} has kind {(int)f.Kind} (PA_FILTER or PA_DOMAIN_FILTER)");
            if (f.Kind == PaFilterKind.Filter && f.FilenamePattern == null)
                return NullWith($"{caller}: filter {i} has no filename_pattern");
            specs[i] = new TraceFilterSpec(f.Kind == PaFilterKind.DomainFilter, f.Inclusive != 0,
                f.Kind == PaFilterKind.Filter ? TraceFilterSpec.Normalize(FileNames.Decode(f.FilenamePattern)) : "",
                f.Lineno, f.AllFrames != 0, f.HasDomain != 0, f.Domain);
        }
        return FilterTraces(specs);
    }

    /// <summary>pa_snapshot_filter: <see cref="Filter(bool, string, int)"/> of a C pattern; null with the error set for NULL.</summary>
    public Snapshot? Filter(bool inclusive, byte* pattern, int lineno) =>
        pattern == null ? NullWith("pa_snapshot_filter: filename_pattern is NULL")
                        : Filter(inclusive, FileNames.Decode(pattern), lineno);

    private static Snapshot? NullWith(string message)
    {
        Errors.Set(message);
        return null;
    }

    /// <summary>Snapshot.filter_traces([Filter(inclusive, pattern, lineno)]): one filter on each trace's most recent frame.</summary>
    public Snapshot Filter(bool inclusive, string pattern, int lineno) =>
        FilterTraces([new TraceFilterSpec(false, inclusive, TraceFilterSpec.Normalize(pattern), lineno, false, false, 0)]);

    // ------------------------------------------------------- dump and load

    /* The file (little-endian; see README "Snapshot files"):
         u64 magic "SNABSNAP", u32 version 1, u32 traceback limit,
         u32 string count, then each string as u32 byte length + UTF-8 bytes,
         u32 traceback count, then each as u32 frame count + frames (u32 string index, i32 line),
         u64 trace count, then each trace as u64 size + u32 traceback index + u32 domain
         (version 1: no domain, every trace in domain 0),
         u64 FNV-1a hash of every byte before it. */

    /// <summary>pa_snapshot_dump: <see cref="Dump(string)"/> to the UTF-8 C path; 0, or -1 with the error set (also for NULL).</summary>
    public int DumpTo(byte* path) =>
        path == null ? Errors.Fail("pa_snapshot_dump: path is NULL") : Dump(Utf8(path)) ? 0 : -1;

    /// <summary>pa_snapshot_load: <see cref="Load(string)"/> of the UTF-8 C path; null with the error set (also for NULL).</summary>
    public static Snapshot? LoadFrom(byte* path) =>
        path == null ? NullWith("pa_snapshot_load: path is NULL") : Load(Utf8(path));

    private static string Utf8(byte* s) => Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(s));

    /// <summary>Writes the snapshot to <paramref name="path"/>; false with the error set.</summary>
    public bool Dump(string path)
    {
        try
        {
            var body = new MemoryStream();
            var w = new BinaryWriter(body, Encoding.UTF8);
            w.Write(FileMagic);
            w.Write(FileVersion);
            w.Write((uint)TracebackLimit);
            var names = new List<string>();
            var nameIndex = new Dictionary<string, int>();
            foreach (TracebackEntry t in _tracebacks)
            {
                foreach (var (file, _) in t.Values)
                {
                    if (!nameIndex.ContainsKey(file))
                    {
                        nameIndex[file] = names.Count;
                        names.Add(file);
                    }
                }
            }
            w.Write((uint)names.Count);
            foreach (string name in names)
            {
                byte[] bytes = FileNames.Encode(name);
                w.Write((uint)bytes.Length);
                w.Write(bytes);
            }
            w.Write((uint)_tracebacks.Count);
            foreach (TracebackEntry t in _tracebacks)
            {
                w.Write((uint)t.Values.Length);
                foreach (var (file, line) in t.Values)
                {
                    w.Write((uint)nameIndex[file]);
                    w.Write(line);
                }
            }
            w.Write((ulong)_sizes.Length);
            for (int i = 0; i < _sizes.Length; i++)
            {
                w.Write((ulong)_sizes[i]);
                w.Write((uint)_tracebackOf[i]);
                w.Write(_domains[i]);
            }
            w.Flush();
            ulong hash = Fnv1a(body.GetBuffer().AsSpan(0, (int)body.Length));
            w.Write(hash);
            w.Flush();
            return WriteFile(path, body.GetBuffer().AsSpan(0, (int)body.Length));
        }
        catch (ArgumentException e)
        {
            Errors.Set($"pa_snapshot_dump: cannot write '{path}': the snapshot is too large to write ({e.GetType().Name})");
            return false;
        }
    }

    /* The whole file, through the C library (OsFiles): a failure says what the OS said. */
    private static bool WriteFile(string path, ReadOnlySpan<byte> bytes)
    {
        int fd = Platform.OsFiles.OpenWrite(path, out string? error);
        if (fd < 0)
        {
            Errors.Set($"pa_snapshot_dump: cannot create '{path}': {error}");
            return false;
        }
        bool written = Platform.OsFiles.WriteFully(fd, bytes, out error);
        bool closed = Platform.OsFiles.Close(fd, out string? closeError);
        if (written && closed)
            return true;
        Errors.Set($"pa_snapshot_dump: cannot write '{path}': {error ?? closeError}");
        return false;
    }

    /// <summary>The largest snapshot file <see cref="Load"/> reads: 1 GiB.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>Reads a snapshot written by <see cref="Dump"/>; null with the error set.</summary>
    /// <remarks>
    /// The file is checked completely before the snapshot is built (SnapshotFile.cs): the magic and
    /// version from its first 16 bytes before anything else is read (so /dev/zero or a big foreign
    /// file is refused at once), its size against <see cref="MaxFileBytes"/> before the rest is read
    /// into one array of that size, the checksum, then every count against the bytes left before
    /// anything is allocated for it, and every field's range. The message names the field.
    /// </remarks>
    public static Snapshot? Load(string path)
    {
        byte[]? data = SnapshotFile.Read(path, FileMagic, FileVersion, out uint version, out string? problem);
        if (data == null)
        {
            Errors.Set($"pa_snapshot_load: '{path}': {problem}");
            return null;
        }
        if (data.Length < 24 || Fnv1a(data.AsSpan(0, data.Length - 8)) != BitConverter.ToUInt64(data, data.Length - 8))
            return LoadError(path, "the file is truncated or damaged (checksum mismatch)");
        var parsed = new SnapshotFile.Contents();
        problem = SnapshotFile.Parse(data.AsSpan(12, data.Length - 20), Tracemalloc.MaxFrames, version, ref parsed);
        if (problem != null)
            return LoadError(path, problem);
        var snapshot = new Snapshot { TracebackLimit = parsed.TracebackLimit };
        var byContent = new Dictionary<string, int>();
        var indexOf = new int[parsed.Tracebacks.Length];
        for (int t = 0; t < indexOf.Length; t++)
            indexOf[t] = snapshot.InternTraceback(parsed.Tracebacks[t], byContent);
        snapshot._sizes = parsed.Sizes;
        snapshot._domains = parsed.Domains;
        snapshot._tracebackOf = new int[parsed.TracebackOf.Length];
        for (int i = 0; i < parsed.TracebackOf.Length; i++)
            snapshot._tracebackOf[i] = indexOf[parsed.TracebackOf[i]];
        return snapshot;
    }

    private static Snapshot? LoadError(string path, string why)
    {
        Errors.Set($"pa_snapshot_load: '{path}': {why}");
        return null;
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte b in bytes)
            h = (h ^ b) * 0x100000001B3UL;
        return h;
    }
}
