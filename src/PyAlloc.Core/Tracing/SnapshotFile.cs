using System;
using System.Buffers.Binary;
using System.Text.Unicode;
using PyAlloc.Core.Platform;

namespace PyAlloc.Core.Tracing;

/* ============================================================================
   Snapshot files: reading and checking (the format is in README, "Snapshot
   files", and Snapshot.Dump)

   A file is hostile until checked.  Read: the first 16 bytes (magic,
   version) before anything else, so a foreign file or a device that never
   ends (/dev/zero) is refused at once; then the size, which must be a
   regular file's and at most Snapshot.MaxFileBytes, before one array of that
   size is allocated and filled.  Parse (after the checksum): a cursor over
   the body; before a count's items are allocated, the count is checked
   against the bytes left (each item takes at least so many), so memory stays
   proportional to the file; every field is range-checked:
     traceback limit      1 .. 100 (tracemalloc's nframe)
     string               its length fits; valid UTF-8
     traceback            1 .. limit frames; each names an existing string,
                          line 0 or more
     traces               exactly the bytes left, 16 each (version 1: 12,
                          with no domain)
     trace size           the running total at most PTRDIFF_MAX
     trace traceback      an existing traceback
   A refusal names the field and its value: "traceback 3 has 0 frames
   (expected 1 to the traceback limit 5)".
============================================================================ */

/// <summary>Reads and checks snapshot files for <see cref="Snapshot.Load"/>.</summary>
internal static class SnapshotFile
{
    /// <summary>What a checked file holds.</summary>
    public struct Contents
    {
        public int TracebackLimit;
        public (string File, int Line)[][] Tracebacks;
        public nuint[] Sizes;
        public int[] TracebackOf;
        public uint[] Domains;
    }

    /// <summary>
    /// The whole file, its magic and version checked first; null with <paramref name="problem"/> set.
    /// </summary>
    /// <remarks>Versions 1 to <paramref name="version"/> are read; <paramref name="fileVersion"/> is the file's.</remarks>
    public static byte[]? Read(string path, ulong magic, uint version, out uint fileVersion, out string? problem)
    {
        fileVersion = 0;
        int fd = OsFiles.OpenRead(path, out string? error);
        if (fd < 0)
        {
            problem = $"cannot open the file: {error}";
            return null;
        }
        try
        {
            return ReadOpen(fd, magic, version, out fileVersion, out problem);
        }
        finally
        {
            OsFiles.Close(fd, out _);
        }
    }

    private static byte[]? ReadOpen(int fd, ulong magic, uint version, out uint v, out string? problem)
    {
        v = 0;
        Span<byte> head = stackalloc byte[16];
        long got = OsFiles.ReadFully(fd, head, out string? error);
        if (got < 0)
            return Fail($"cannot read the file: {error}", out problem);
        if (got < 16 || BinaryPrimitives.ReadUInt64LittleEndian(head) != magic)
            return Fail(got < 16 && got > 0 && head[..(int)got].SequenceEqual(BitConverter.GetBytes(magic).AsSpan(0, (int)Math.Min(got, 8)))
                ? $"the file is truncated ({got} bytes, not even a header)"
                : "not a PyAlloc snapshot file (no SNABSNAP magic at its start)", out problem);
        v = BinaryPrimitives.ReadUInt32LittleEndian(head[8..]);
        if (v < 1 || v > version)
            return Fail($"snapshot file version {v}; this PyAlloc reads versions 1 to {version}", out problem);
        long size = OsFiles.Size(fd, out error);
        if (size < 0)
            return Fail($"cannot find the file's size (not a regular file?): {error}", out problem);
        if (size < 24)
            return Fail($"the file is truncated ({size} bytes, less than a header and a checksum)", out problem);
        if (size > Snapshot.MaxFileBytes)
            return Fail($"the file has {size} bytes, more than the {Snapshot.MaxFileBytes} a snapshot file may have", out problem);
        if (!OsFiles.Rewind(fd, out error))
            return Fail($"cannot read the file: {error}", out problem);
        byte[] data = new byte[size];
        got = OsFiles.ReadFully(fd, data, out error);
        if (got < 0)
            return Fail($"cannot read the file: {error}", out problem);
        if (got != size)
            return Fail($"the file changed while it was read ({got} of {size} bytes)", out problem);
        problem = null;
        return data;
    }

    private static byte[]? Fail(string why, out string? problem)
    {
        problem = why;
        return null;
    }

    /* A cursor over the body; every read checks the bytes left. */
    private ref struct Cursor(ReadOnlySpan<byte> body)
    {
        private readonly ReadOnlySpan<byte> _body = body;
        private int _at;

        public readonly long Left => _body.Length - _at;

        public bool U32(out uint value)
        {
            value = 0;
            if (Left < 4)
                return false;
            value = BinaryPrimitives.ReadUInt32LittleEndian(_body[_at..]);
            _at += 4;
            return true;
        }

        public bool U64(out ulong value)
        {
            value = 0;
            if (Left < 8)
                return false;
            value = BinaryPrimitives.ReadUInt64LittleEndian(_body[_at..]);
            _at += 8;
            return true;
        }

        public bool Bytes(uint n, out ReadOnlySpan<byte> bytes)
        {
            bytes = default;
            if (Left < n)
                return false;
            bytes = _body.Slice(_at, (int)n);
            _at += (int)n;
            return true;
        }
    }

    /// <summary>
    /// Checks and reads the body (the bytes after magic and version, before the checksum) into
    /// <paramref name="result"/>; null, or what is wrong, naming the field.
    /// </summary>
    public static string? Parse(ReadOnlySpan<byte> body, int maxFrames, uint version, ref Contents result)
    {
        int traceBytes = version >= 2 ? 16 : 12;
        var c = new Cursor(body);
        if (!c.U32(out uint limit))
            return Truncated("the traceback limit");
        if (limit < 1 || limit > (uint)maxFrames)
            return $"the traceback limit is {limit} (expected 1 to {maxFrames})";
        result.TracebackLimit = (int)limit;

        if (!c.U32(out uint nameCount))
            return Truncated("the string count");
        if (nameCount > c.Left / 4)
            return $"the string count {nameCount} does not fit the {c.Left} bytes left (4 or more each)";
        var names = new string[nameCount];
        for (uint i = 0; i < nameCount; i++)
        {
            if (!c.U32(out uint length))
                return Truncated($"the length of string {i}");
            if (!c.Bytes(length, out ReadOnlySpan<byte> bytes))
                return $"string {i} has length {length}, more than the {c.Left} bytes left";
            if (!Utf8.IsValid(bytes))
                return $"string {i} is not valid UTF-8";
            names[i] = FileNames.Decode(bytes);
        }

        if (!c.U32(out uint tracebackCount))
            return Truncated("the traceback count");
        if (tracebackCount > c.Left / 12)
            return $"the traceback count {tracebackCount} does not fit the {c.Left} bytes left (12 or more each)";
        result.Tracebacks = new (string, int)[tracebackCount][];
        for (uint t = 0; t < tracebackCount; t++)
        {
            if (!c.U32(out uint frameCount))
                return Truncated($"the frame count of traceback {t}");
            if (frameCount < 1 || frameCount > limit)
                return $"traceback {t} has {frameCount} frames (expected 1 to the traceback limit {limit})";
            if (frameCount > c.Left / 8)
                return $"traceback {t} has {frameCount} frames, more than the {c.Left} bytes left hold";
            var frames = new (string, int)[frameCount];
            for (uint f = 0; f < frameCount; f++)
            {
                c.U32(out uint nameIndex);
                c.U32(out uint rawLine);
                int line = unchecked((int)rawLine);
                if (nameIndex >= nameCount)
                    return $"frame {f} of traceback {t} names string {nameIndex}, but there are {nameCount}";
                if (line < 0)
                    return $"frame {f} of traceback {t} has line {line} (expected 0 or more)";
                frames[f] = (names[nameIndex], line);
            }
            result.Tracebacks[t] = frames;
        }

        if (!c.U64(out ulong traceCount))
            return Truncated("the trace count");
        if (c.Left % traceBytes != 0 || traceCount != (ulong)(c.Left / traceBytes))
            return $"the trace count {traceCount} does not match the {c.Left} bytes left ({traceBytes} per trace)";
        result.Sizes = new nuint[traceCount];
        result.TracebackOf = new int[traceCount];
        result.Domains = new uint[traceCount];
        ulong total = 0;
        for (ulong i = 0; i < traceCount; i++)
        {
            c.U64(out ulong size);
            c.U32(out uint tracebackIndex);
            uint domain = 0;
            if (traceBytes == 16)
                c.U32(out domain);
            if (size > (ulong)nint.MaxValue - total)
                return $"trace {i} has size {size}: the traced total passes PTRDIFF_MAX";
            total += size;
            if (tracebackIndex >= tracebackCount)
                return $"trace {i} names traceback {tracebackIndex}, but there are {tracebackCount}";
            result.Sizes[i] = (nuint)size;
            result.TracebackOf[i] = (int)tracebackIndex;
            result.Domains[i] = domain;
        }
        return null;
    }

    private static string Truncated(string field) => $"the file is truncated (it ends inside {field})";
}
