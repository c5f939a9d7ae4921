using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace PyAlloc.Tests.Agreement;

/// <summary>A function declared <c>PA_API type name(params);</c>.</summary>
internal sealed record CFunction(string Name, string ReturnType, IReadOnlyList<string> ParameterTypes)
{
    public override string ToString() => $"{ReturnType} {Name}({string.Join(", ", ParameterTypes)})";
}

/// <summary>A struct field: <c>type name;</c> or <c>type name[length];</c>.</summary>
internal sealed record CField(string Type, string Name, string? ArrayLength);

/// <summary>A <c>typedef struct tag { fields } name;</c>.</summary>
internal sealed record CStruct(string Name, IReadOnlyList<CField> Fields);

/// <summary>
/// Just enough of a C parser for include/pyalloc.h's style: comments and preprocessor lines
/// removed, then regular expressions over the declarations (which may span lines).
/// </summary>
internal sealed class CHeader
{
    private static readonly HashSet<string> Qualifiers = ["const", "volatile", "unsigned", "signed", "struct", "long", "short"];

    public IReadOnlyList<CFunction> Functions { get; }
    public IReadOnlyList<CStruct> Structs { get; }
    /// <summary>Every <c>#define PA_NAME value</c> with a value, text as written.</summary>
    public IReadOnlyDictionary<string, string> Defines { get; }

    public CHeader(string text)
    {
        string code = StripComments(text);
        Defines = Regex.Matches(code, @"^[ \t]*#[ \t]*define[ \t]+(?<name>PA_\w+)[ \t]+(?<value>\S.*?)[ \t]*$", RegexOptions.Multiline)
            .GroupBy(m => m.Groups["name"].Value)
            .ToDictionary(g => g.Key, g => g.Last().Groups["value"].Value);
        code = Regex.Replace(code, @"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", "", RegexOptions.Multiline); // with continuation lines

        Functions = Regex.Matches(code, @"\bPA_API\s+(?<ret>[A-Za-z_][\w\s\*]*?)\s*\b(?<name>\w+)\s*\((?<params>[^;(){}]*)\)\s*;")
            .Select(m => new CFunction(m.Groups["name"].Value, NormalizeType(m.Groups["ret"].Value), Parameters(m.Groups["params"].Value)))
            .ToList();

        Structs = Regex.Matches(code, @"\btypedef\s+struct\s+\w*\s*\{(?<body>[^{}]*)\}\s*(?<name>\w+)\s*;")
            .Select(m => new CStruct(m.Groups["name"].Value, Fields(m.Groups["body"].Value)))
            .ToList();
    }

    public static string StripComments(string text)
    {
        text = Regex.Replace(text, @"/\*.*?\*/", " ", RegexOptions.Singleline);
        return Regex.Replace(text, @"//[^\n]*", "");
    }

    /// <summary>"const char *" → "const char*": single spaces between words, none around '*'.</summary>
    public static string NormalizeType(string type)
    {
        string t = Regex.Replace(type.Trim(), @"\s+", " ");
        return Regex.Replace(t, @"\s*\*\s*", "*");
    }

    private static List<string> Parameters(string list)
    {
        string trimmed = list.Trim();
        if (trimmed.Length == 0 || trimmed == "void")
            return [];
        return trimmed.Split(',').Select(ParameterType).ToList();
    }

    /// <summary>The type of one parameter declaration, its name (if any) removed.</summary>
    private static string ParameterType(string parameter)
    {
        var tokens = Regex.Matches(parameter, @"[A-Za-z_]\w*|\*|\[\s*\w*\s*\]").Select(m => m.Value).ToList();
        var typeWords = tokens.Where(t => char.IsLetter(t[0]) || t[0] == '_').Where(t => !Qualifiers.Contains(t)).ToList();
        bool named = typeWords.Count >= 2 && (char.IsLetter(tokens[^1][0]) || tokens[^1][0] == '_');
        if (named)
            tokens.RemoveAt(tokens.Count - 1);
        return NormalizeType(string.Join(" ", tokens));
    }

    private static List<CField> Fields(string body) =>
        body.Split(';').Select(f => f.Trim()).Where(f => f.Length > 0)
            .Select(f => Regex.Match(f, @"^(?<type>.*?[\s\*])(?<name>[A-Za-z_]\w*)\s*(?:\[\s*(?<len>[^\]]+?)\s*\])?$"))
            .Select(m => m.Success
                ? new CField(NormalizeType(m.Groups["type"].Value), m.Groups["name"].Value,
                             m.Groups["len"].Success ? m.Groups["len"].Value : null)
                : throw new FormatException($"cannot read the struct field \"{m.Value}\""))
            .ToList();

    /// <summary>The value of an integer #define written as digits, casts and * + - (e.g. <c>((size_t)16 * 1024)</c>); null otherwise.</summary>
    public long? IntegerDefine(string name)
    {
        if (!Defines.TryGetValue(name, out string? value))
            return null;
        string expression = Regex.Replace(value, @"\(\s*(size_t|int|long|unsigned)\s*\)", "");
        if (!Regex.IsMatch(expression, @"^[\s\d()*+\-]+$"))
            return null;
        return Evaluate(expression.Replace(" ", ""), out _);
    }

    /// <summary>True when <paramref name="name"/> is an integer-valued macro (see <see cref="IntegerDefine"/>).</summary>
    public bool IsIntegerDefine(string name) => IntegerDefine(name) != null;

    // a tiny recursive-descent evaluator for + - * and parentheses
    private static long Evaluate(string s, out int end) { int i = 0; long v = Sum(s, ref i); end = i; return v; }

    private static long Sum(string s, ref int i)
    {
        long v = Product(s, ref i);
        while (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            char op = s[i++];
            long r = Product(s, ref i);
            v = op == '+' ? v + r : v - r;
        }
        return v;
    }

    private static long Product(string s, ref int i)
    {
        long v = Atom(s, ref i);
        while (i < s.Length && s[i] == '*')
        {
            i++;
            v *= Atom(s, ref i);
        }
        return v;
    }

    private static long Atom(string s, ref int i)
    {
        if (s[i] == '(')
        {
            i++;
            long v = Sum(s, ref i);
            i++; // ')'
            return v;
        }
        int start = i;
        while (i < s.Length && char.IsDigit(s[i]))
            i++;
        return long.Parse(s[start..i]);
    }
}
