using System;
using System.Runtime.InteropServices;

namespace PyAlloc.Core.Platform;

/* ============================================================================
   Whole files through the C library, with the OS's own words for failures

   NativeAOT strips .NET's resource strings, so an IOException's message is a
   resource key ("IO_PathNotFound_Path, /x"), not a sentence.  The snapshot
   files are read and written here with open/read/write instead, and a
   failure is described from errno: "No such file or directory (errno 2)".
   Reading is bounded: the caller reads the first bytes (and may refuse the
   file on them) before asking for the rest, and the rest is read into one
   array of the file's size, which must be at most a limit the caller gives.
============================================================================ */

/// <summary>Reading and writing whole files with errno-based messages.</summary>
internal static unsafe class OsFiles
{
    /// <summary>"strerror(errno) (errno N)" for the calling thread's errno now.</summary>
    public static string LastOsError() => Describe(Libc.Errno);

    /// <summary>"No such file or directory (errno 2)".</summary>
    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    /// <summary>Opens <paramref name="path"/> for reading; -1 with <paramref name="error"/> set.</summary>
    public static int OpenRead(string path, out string? error) => Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0, out error);

    /// <summary>Creates or truncates <paramref name="path"/> for writing; -1 with <paramref name="error"/> set.</summary>
    public static int OpenWrite(string path, out string? error) =>
        Open(path, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_CLOEXEC, 0x1B6 /* 0666 */, out error);

    private static int Open(string path, int flags, int mode, out string? error)
    {
        byte[] z = FileNames.EncodeZ(path);
        int fd;
        fixed (byte* p = z)
        {
            do
                fd = Libc.Open(p, flags, mode);
            while (fd < 0 && Libc.Errno == Libc.EINTR);
        }
        error = fd < 0 ? LastOsError() : null;
        return fd;
    }

    /// <summary>
    /// Reads until <paramref name="buffer"/> is full or the file ends; the bytes read, or -1 with
    /// <paramref name="error"/> set.
    /// </summary>
    public static long ReadFully(int fd, Span<byte> buffer, out string? error)
    {
        error = null;
        long done = 0;
        fixed (byte* p = buffer)
        {
            while (done < buffer.Length)
            {
                // Invariants: buffer[0..done) holds the file's next bytes.
                nint n = Libc.Read(fd, p + done, (nuint)(buffer.Length - done));
                if (n == 0)
                    break;
                if (n < 0)
                {
                    if (Libc.Errno == Libc.EINTR)
                        continue;
                    error = LastOsError();
                    return -1;
                }
                done += n;
            }
        }
        return done;
    }

    /// <summary>Writes all of <paramref name="data"/>; false with <paramref name="error"/> set.</summary>
    public static bool WriteFully(int fd, ReadOnlySpan<byte> data, out string? error)
    {
        error = null;
        fixed (byte* p = data)
        {
            long done = 0;
            while (done < data.Length)
            {
                // Invariants: data[0..done) is written.
                nint n = Libc.Write(fd, p + done, (nuint)(data.Length - done));
                if (n < 0)
                {
                    if (Libc.Errno == Libc.EINTR)
                        continue;
                    error = LastOsError();
                    return false;
                }
                done += n;
            }
        }
        return true;
    }

    /// <summary>The file's size from its end (a regular file), or -1 with <paramref name="error"/> set.</summary>
    public static long Size(int fd, out string? error)
    {
        long size = Libc.Lseek(fd, 0, Libc.SEEK_END);
        error = size < 0 ? LastOsError() : null;
        return size;
    }

    /// <summary>Moves back to the start; false with <paramref name="error"/> set.</summary>
    public static bool Rewind(int fd, out string? error)
    {
        bool ok = Libc.Lseek(fd, 0, Libc.SEEK_SET) == 0;
        error = ok ? null : LastOsError();
        return ok;
    }

    /// <summary>Closes <paramref name="fd"/>; false with <paramref name="error"/> set (a write may fail only here).</summary>
    public static bool Close(int fd, out string? error)
    {
        bool ok = Libc.Close(fd) == 0;
        error = ok ? null : LastOsError();
        return ok;
    }
}
