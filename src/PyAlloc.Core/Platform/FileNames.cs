using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace PyAlloc.Core.Platform;

/// <summary>
/// File names as bytes, carried in .NET strings without loss: Python's "surrogateescape".
/// </summary>
/// <remarks>
/// A name is whatever bytes the program passed (__FILE__ need not be UTF-8). Valid UTF-8
/// decodes as usual; every byte that is not part of valid UTF-8 becomes the lone
/// surrogate U+DC80 + byte, and encoding turns such surrogates back into the byte. So a
/// name comes back out of a snapshot, a statistic, a filter or a dump file byte for byte.
/// </remarks>
internal static unsafe class FileNames
{
    public static string Decode(byte* s) => Decode(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(s));

    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            // Invariants: the bytes before these are decoded into sb.
            if (Rune.DecodeFromUtf8(bytes, out Rune rune, out int used) == OperationStatus.Done)
            {
                sb.Append(rune.ToString());
                bytes = bytes[used..];
            }
            else
            {
                sb.Append((char)(0xDC00 | bytes[0]));
                bytes = bytes[1..];
            }
        }
        return sb.ToString();
    }

    public static byte[] Encode(string s)
    {
        var output = new List<byte>(s.Length + 8);
        Span<byte> buffer = stackalloc byte[4];
        ReadOnlySpan<char> chars = s;
        while (!chars.IsEmpty)
        {
            char c = chars[0];
            if (c >= 0xDC80 && c <= 0xDCFF)
            {
                output.Add((byte)(c & 0xFF));
                chars = chars[1..];
                continue;
            }
            Rune.DecodeFromUtf16(chars, out Rune rune, out int used);
            int n = rune.EncodeToUtf8(buffer);
            for (int i = 0; i < n; i++)
                output.Add(buffer[i]);
            chars = chars[used..];
        }
        return output.ToArray();
    }

    /// <summary>Encode, with a terminating NUL.</summary>
    public static byte[] EncodeZ(string s)
    {
        byte[] bytes = Encode(s);
        Array.Resize(ref bytes, bytes.Length + 1);
        return bytes;
    }
}
