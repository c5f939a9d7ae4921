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
