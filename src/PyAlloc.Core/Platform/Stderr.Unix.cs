using System.Text;

namespace PyAlloc.Core.Platform;

/// <summary>
/// Text to file descriptor 2, written with write() as the host's own C code would.
/// </summary>
/// <remarks>
/// Not <c>Console.Error</c>: .NET's console on Unix starts, on its first write, the
/// terminal and signal handling of System.Native (handlers for SIGINT, SIGQUIT,
/// SIGCHLD, SIGCONT, SIGWINCH and a thread to serve them), which would change the
/// host's process behind its back.
/// </remarks>
internal static unsafe class Stderr
{
    /// <summary>Writes <paramref name="text"/> (UTF-8) whole, retrying after EINTR and short writes.</summary>
    public static void Write(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* start = bytes)
        {
            byte* p = start;
            nuint left = (nuint)bytes.Length;
            while (left > 0)
            {
                // Invariants: the bytes before p are written.
                nint n = Libc.Write(2, p, left);
                if (n < 0 && *Libc.ErrnoLocation() == Libc.EINTR)
                    continue;
                if (n <= 0)
                    return; // stderr is closed or full: nothing more can be done
                p += n;
                left -= (nuint)n;
            }
        }
    }

    /// <summary>Writes <paramref name="line"/> and a newline.</summary>
    public static void WriteLine(string line) => Write(line + "\n");
}
