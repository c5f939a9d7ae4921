using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Unicode;

namespace PyAlloc.Core.Support;

/// <summary>
/// The per-thread "last error" behind <c>pa_last_error()</c>.
/// </summary>
/// <remarks>
/// Each thread that ever fails gets one native buffer of <see cref="Capacity"/>
/// bytes, kept for the thread's life, so the pointer handed to C stays valid
/// until the same thread's next failure. Messages longer than the buffer are cut.
/// The setters are out of line (<see cref="MethodImplOptions.NoInlining"/>): they
/// are the "throw paths" of a C API, kept off the callers' fast paths.
/// </remarks>
internal static unsafe class Errors
{
    public const int Capacity = 512;

    [ThreadStatic] private static byte* t_message;

    /// <summary>The calling thread's message as a NUL-terminated string; "" when there is none.</summary>
    public static byte* LastError
    {
        get
        {
            byte* m = t_message;
            return m != null ? m : Empty;
        }
    }

    /// <summary>The calling thread's message as a .NET string; "" when there is none.</summary>
    public static string LastErrorString =>
        Marshal.PtrToStringUTF8((nint)LastError) ?? string.Empty;

    /// <summary>Forgets the calling thread's message.</summary>
    public static void Clear()
    {
        if (t_message != null)
            t_message[0] = 0;
    }

    /// <summary>Records <paramref name="message"/> as the calling thread's last error.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Set(string message)
    {
        byte* m = t_message;
        if (m == null)
        {
            m = (byte*)NativeMemory.Alloc(Capacity);
            if (m == null)
                return; // no memory even for the message: nothing better to do
            t_message = m;
        }
        // As much as fits (whole characters), then the terminator.
        Utf8.FromUtf16(message, new Span<byte>(m, Capacity - 1), out _, out int n);
        m[n] = 0;
    }

    /// <summary>Records the NUL-terminated UTF-8 <paramref name="message"/> (not null) as the last error.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void SetUtf8(byte* message) =>
        Set(System.Text.Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(message)));

    /// <summary>
    /// Copies the calling thread's message (possibly "") into <paramref name="buffer"/> of
    /// <see cref="Capacity"/> bytes, for <see cref="Restore"/> after work whose errors are
    /// not the caller's.
    /// </summary>
    public static void CopyTo(byte* buffer)
    {
        byte* m = LastError;
        int n = 0;
        while (n < Capacity - 1 && m[n] != 0)
        {
            buffer[n] = m[n];
            n++;
        }
        buffer[n] = 0;
    }

    /// <summary>Puts back a message saved by <see cref="CopyTo"/>.</summary>
    public static void Restore(byte* saved)
    {
        if (saved[0] == 0)
        {
            Clear();
            return;
        }
        byte* m = t_message;   // non-null: the saved message came from it
        int n = 0;
        while ((m[n] = saved[n]) != 0)
            n++;
    }

    /// <summary>Records the error and returns null, for pointer-returning calls.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void* Null(string message)
    {
        Set(message);
        return null;
    }

    /// <summary>Records the error and returns -1, for int-returning calls.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Fail(string message)
    {
        Set(message);
        return -1;
    }

    /// <summary>Records an exception that reached the C ABI boundary (a bug in PyAlloc).</summary>
    /// <remarks>Never throws itself: when even the message cannot be made, a fixed one is kept.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void SetInternal(string function, Exception e)
    {
        try
        {
            // Not e.Message: NativeAOT strips .NET's resource strings, so it is a resource key
            // ("Arg_OverflowException"), not a sentence.
            Set($"{function}: internal error: {e.GetType().Name} (a bug in PyAlloc; please report it)");
        }
        catch
        {
            Set("internal error (no memory to describe it)"); // a literal: no allocation
        }
    }

    /// <summary>Formats a pointer the way C's %p does on glibc.</summary>
    public static string Hex(void* p) => p == null ? "(nil)" : "0x" + ((nuint)p).ToString("x");

    /// <summary>The empty message, "" (static data).</summary>
    public static byte* Empty => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(""u8));
}
