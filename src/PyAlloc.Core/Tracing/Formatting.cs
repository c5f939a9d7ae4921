using System;
using System.Numerics;
using System.Text;

namespace PyAlloc.Core.Tracing;

/// <summary>
/// str(Statistic) and str(StatisticDiff) of CPython's tracemalloc, to the character.
/// </summary>
/// <remarks>
/// CPython formats sizes with printf's "%.0f" and "%.1f", which round the exact binary
/// value half to even (8,000,000 bytes are 7812.5 KiB and print as "7812 KiB").
/// .NET's formatting rounds differently, so the digits are computed here from the
/// exact value.
/// </remarks>
public static class Formatting
{
    /// <summary>str(Statistic): "file.c:5: size=7813 KiB, count=1001, average=8.0 KiB".</summary>
    public static string Statistic(string file, int line, ulong size, ulong count)
    {
        var sb = new StringBuilder();
        sb.Append(file).Append(':').Append(line)
          .Append(": size=").Append(Size(size, sign: false))
          .Append(", count=").Append(count);
        if (count != 0)
            sb.Append(", average=").Append(Size((double)size / count, sign: false));
        return sb.ToString();
    }

    /// <summary>str(StatisticDiff).</summary>
    public static string StatisticDiff(string file, int line, ulong size, long sizeDiff, ulong count, long countDiff)
    {
        var sb = new StringBuilder();
        sb.Append(file).Append(':').Append(line)
          .Append(": size=").Append(Size(size, sign: false))
          .Append(" (").Append(Size(sizeDiff, sign: true)).Append(')')
          .Append(", count=").Append(count)
          .Append(" (").Append(countDiff >= 0 ? "+" : "").Append(countDiff).Append(')');
        if (count != 0)
            sb.Append(", average=").Append(Size((double)size / count, sign: false));
        return sb.ToString();
    }

    /// <summary>The value of <c>limit</c> that stands for CPython's None: every frame.</summary>
    public const int NoLimit = int.MinValue;

    /// <summary>
    /// Traceback.format(limit, most_recent_first), line for line: '  File "x.c", line 5', then the
    /// source line, stripped and indented by four, when the file can be read (linecache.getline).
    /// </summary>
    /// <param name="mostRecentFirst">The traceback as PyAlloc keeps it: most recent frame first.</param>
    /// <param name="limit">CPython's limit: <see cref="NoLimit"/> (None) for every frame; n &gt; 0 the n most
    /// recent; otherwise CPython's self[:limit] over the frames oldest first.</param>
    /// <param name="mostRecentFirstOutput">most_recent_first.</param>
    public static string Traceback((string File, int Line)[] mostRecentFirst, int limit, bool mostRecentFirstOutput)
    {
        // CPython's Traceback holds the frames oldest first.
        var frames = new (string File, int Line)[mostRecentFirst.Length];
        for (int i = 0; i < frames.Length; i++)
            frames[i] = mostRecentFirst[frames.Length - 1 - i];
        int n = frames.Length;
        int start = 0, end = n;                      // frame_slice = self[start:end]
        if (limit != NoLimit)
        {
            if (limit > 0)
                start = Math.Max(0, n - limit);      // self[-limit:]
            else
                end = limit == 0 ? 0 : Math.Max(0, n + limit);   // self[:limit]: limit 0 gives nothing
        }
        var sb = new StringBuilder();
        var lines = new SourceLines();
        for (int k = 0; k < end - start; k++)
        {
            var (file, line) = frames[mostRecentFirstOutput ? end - 1 - k : start + k];
            sb.Append("  File \"").Append(file).Append("\", line ").Append(line).Append('\n');
            string source = lines.Get(file, line).Trim();
            if (source.Length > 0)
                sb.Append("    ").Append(source).Append('\n');
        }
        return sb.ToString();
    }

    /* linecache.getline for one formatting: a file read once, "" when it cannot be read, is not
       a regular file of at most 16 MiB, or has no such line. */
    private sealed class SourceLines
    {
        private const long MaxBytes = 16 << 20;
        private readonly System.Collections.Generic.Dictionary<string, string[]> _files = new();

        public string Get(string file, int line)
        {
            if (!_files.TryGetValue(file, out string[]? lines))
                _files[file] = lines = Read(file);
            return line >= 1 && line <= lines.Length ? lines[line - 1] : "";
        }

        private static string[] Read(string file)
        {
            int fd = Platform.OsFiles.OpenRead(file, out _);
            if (fd < 0)
                return [];
            try
            {
                long size = Platform.OsFiles.Size(fd, out _);
                if (size < 0 || size > MaxBytes || !Platform.OsFiles.Rewind(fd, out _))
                    return [];
                var bytes = new byte[size];
                if (Platform.OsFiles.ReadFully(fd, bytes, out _) != size)
                    return [];
                return Encoding.UTF8.GetString(bytes).Split('\n');
            }
            finally
            {
                Platform.OsFiles.Close(fd, out _);
            }
        }
    }

    /// <summary>tracemalloc._format_size.</summary>
    public static string Size(double size, bool sign)
    {
        foreach (string unit in (ReadOnlySpan<string>)["B", "KiB", "MiB", "GiB", "TiB"])
        {
            if (Math.Abs(size) < 100 && unit != "B")
                return Fixed(size, 1, sign) + " " + unit;        // 3 digits (xx.x UNIT)
            if (Math.Abs(size) < 10 * 1024 || unit == "TiB")
                return Fixed(size, 0, sign) + " " + unit;        // 4 or 5 digits (xxxx UNIT)
            size /= 1024;
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>printf("%.{decimals}f") (with "%+" when <paramref name="sign"/>), exactly.</summary>
    public static string Fixed(double value, int decimals, bool sign)
    {
        bool negative = value < 0 || (value == 0 && double.IsNegative(value));
        double magnitude = Math.Abs(value);
        // magnitude = mantissa * 2^exponent exactly.
        long bits = BitConverter.DoubleToInt64Bits(magnitude);
        int rawExponent = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xFFFFFFFFFFFFFL;
        BigInteger mantissa = rawExponent == 0 ? fraction : fraction | (1L << 52);
        int exponent = rawExponent == 0 ? -1074 : rawExponent - 1075;
        // scaled = magnitude * 10^decimals, rounded half to even.
        BigInteger numerator = mantissa * BigInteger.Pow(10, decimals);
        BigInteger scaled;
        if (exponent >= 0)
        {
            scaled = numerator << exponent;
        }
        else
        {
            BigInteger denominator = BigInteger.One << -exponent;
            scaled = BigInteger.DivRem(numerator, denominator, out BigInteger remainder);
            int c = (remainder * 2).CompareTo(denominator);
            if (c > 0 || (c == 0 && !scaled.IsEven))
                scaled += 1;
        }
        string digits = scaled.ToString().PadLeft(decimals + 1, '0');
        string text = decimals == 0 ? digits : digits[..^decimals] + "." + digits[^decimals..];
        if (negative)
            return "-" + text;
        return sign ? "+" + text : text;
    }
}

/// <summary>Python's fnmatch.fnmatch on POSIX (case-sensitive).</summary>
public static class FnMatch
{
    /// <summary>True when <paramref name="name"/> matches <paramref name="pattern"/>: *, ?, [seq], [!seq].</summary>
    public static bool Match(string name, string pattern) => Match(name.AsSpan(), pattern.AsSpan());

    private static bool Match(ReadOnlySpan<char> name, ReadOnlySpan<char> pattern)
    {
        int n = 0, p = 0, starP = -1, starN = 0;
        while (n < name.Length)
        {
            // Invariants: name[0..n) matches pattern[0..p); starP is the last '*' seen.
            if (p < pattern.Length)
            {
                char c = pattern[p];
                if (c == '*')
                {
                    starP = p++;
                    starN = n;
                    continue;
                }
                if (c == '?')
                {
                    p++;
                    n++;
                    continue;
                }
                if (c == '[' && ClassEnd(pattern, p) is int end and > 0)
                {
                    if (ClassMatches(pattern[(p + 1)..end], name[n]))
                    {
                        p = end + 1;
                        n++;
                        continue;
                    }
                }
                else if (c == name[n])
                {
                    p++;
                    n++;
                    continue;
                }
            }
            if (starP < 0)
                return false;
            p = starP + 1;
            n = ++starN;
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }

    /* The index of the ']' closing the class that opens at start, or -1 (then '[' is literal). */
    private static int ClassEnd(ReadOnlySpan<char> pattern, int start)
    {
        int i = start + 1;
        if (i < pattern.Length && pattern[i] == '!')
            i++;
        if (i < pattern.Length && pattern[i] == ']')
            i++;
        while (i < pattern.Length && pattern[i] != ']')
            i++;
        return i < pattern.Length ? i : -1;
    }

    private static bool ClassMatches(ReadOnlySpan<char> body, char c)
    {
        bool negate = body.Length > 0 && body[0] == '!';
        if (negate)
            body = body[1..];
        bool found = false;
        for (int i = 0; i < body.Length; i++)
        {
            if (i + 2 < body.Length && body[i + 1] == '-')
            {
                if (c >= body[i] && c <= body[i + 2])
                    found = true;
                i += 2;
            }
            else if (body[i] == c)
            {
                found = true;
            }
        }
        return found != negate;
    }
}
