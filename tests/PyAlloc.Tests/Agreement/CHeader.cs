using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace PyAlloc.Tests.Agreement;

/// <summary>A function declared <c>PA_API type name(params);</c>, a <c>static inline</c> one, or a function pointer typedef.</summary>
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

    /// <summary>The exported functions: <c>PA_API ret name(params);</c>.</summary>
    public IReadOnlyList<CFunction> Functions { get; }
    /// <summary>The functions defined in the header: <c>static inline ret name(params) { ... }</c>.</summary>
    public IReadOnlyList<CFunction> InlineFunctions { get; }
    /// <summary>Function pointer typedefs: <c>typedef ret (*name)(params);</c>, by name.</summary>
    public IReadOnlyDictionary<string, CFunction> FunctionPointerTypes { get; }
    /// <summary>Opaque struct typedefs: <c>typedef struct tag name;</c> (only pointers to them are used).</summary>
    public IReadOnlySet<string> OpaqueTypes { get; }
    /// <summary>Enum typedefs: <c>typedef enum tag { ... } name;</c> (an int in the C ABI).</summary>
    public IReadOnlySet<string> EnumTypes { get; }
    public IReadOnlyList<CStruct> Structs { get; }
    /// <summary>Every <c>#define PA_NAME value</c> with a value, text as written.</summary>
    public IReadOnlyDictionary<string, string> Defines { get; }
    /// <summary>The constants of the header's <c>enum { ... };</c> declarations, with their values.</summary>
    public IReadOnlyDictionary<string, long> EnumConstants { get; }

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

        InlineFunctions = Regex.Matches(code, @"\bstatic\s+inline\s+(?<ret>[A-Za-z_][\w\s\*]*?)\s*\b(?<name>\w+)\s*\((?<params>[^;(){}]*)\)\s*\{")
            .Select(m => new CFunction(m.Groups["name"].Value, NormalizeType(m.Groups["ret"].Value), Parameters(m.Groups["params"].Value)))
            .ToList();

        FunctionPointerTypes = Regex.Matches(code, @"\btypedef\s+(?<ret>[A-Za-z_][\w\s\*]*?)\s*\(\s*\*\s*(?<name>\w+)\s*\)\s*\((?<params>[^;(){}]*)\)\s*;")
            .Select(m => new CFunction(m.Groups["name"].Value, NormalizeType(m.Groups["ret"].Value), Parameters(m.Groups["params"].Value)))
            .ToDictionary(f => f.Name);

        OpaqueTypes = Regex.Matches(code, @"\btypedef\s+struct\s+\w+\s+(?<name>\w+)\s*;")
            .Select(m => m.Groups["name"].Value).ToHashSet();

        EnumTypes = Regex.Matches(code, @"\btypedef\s+enum\s+\w*\s*\{[^{}]*\}\s*(?<name>\w+)\s*;")
            .Select(m => m.Groups["name"].Value).ToHashSet();

        Structs = Regex.Matches(code, @"\btypedef\s+struct\s+\w*\s*\{(?<body>[^{}]*)\}\s*(?<name>\w+)\s*;")
            .Select(m => new CStruct(m.Groups["name"].Value, Fields(m.Groups["body"].Value)))
            .ToList();

        var enums = new Dictionary<string, long>();
        foreach (Match m in Regex.Matches(code, @"\benum\s*\w*\s*\{(?<body>[^{}]*)\}\s*\w*\s*;"))
        {
            long next = 0;
            foreach (string item in m.Groups["body"].Value.Split(',').Select(s => s.Trim()).Where(s => s.Length > 0))
            {
                Match e = Regex.Match(item, @"^(?<name>\w+)\s*(?:=\s*(?<value>.+))?$");
                if (!e.Success)
                    throw new FormatException($"cannot read the enum constant \"{item}\"");
                long value = e.Groups["value"].Success
                    ? Evaluate(e.Groups["value"].Value) ?? throw new FormatException($"cannot evaluate \"{item}\"")
                    : next;
                enums[e.Groups["name"].Value] = value;
                next = value + 1;
            }
        }
        EnumConstants = enums;
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

    /// <summary>
    /// The type of one parameter declaration, its name (if any) removed; an array parameter
    /// (<c>intptr_t out[3]</c>) is the pointer it decays to (<c>intptr_t*</c>).
    /// </summary>
    private static string ParameterType(string parameter)
    {
        var tokens = Regex.Matches(parameter, @"[A-Za-z_]\w*|\*|\[\s*\w*\s*\]").Select(m => m.Value).ToList();
        int arrays = 0;
        while (tokens.Count > 0 && tokens[^1][0] == '[')
        {
            tokens.RemoveAt(tokens.Count - 1);
            arrays++;
        }
        var typeWords = tokens.Where(t => char.IsLetter(t[0]) || t[0] == '_').Where(t => !Qualifiers.Contains(t)).ToList();
        bool named = typeWords.Count >= 2 && (char.IsLetter(tokens[^1][0]) || tokens[^1][0] == '_');
        if (named)
            tokens.RemoveAt(tokens.Count - 1);
        return NormalizeType(string.Join(" ", tokens) + new string('*', arrays));
    }

    private static List<CField> Fields(string body) =>
        body.Split(';').Select(f => f.Trim()).Where(f => f.Length > 0)
            .Select(f => Regex.Match(f, @"^(?<type>.*?[\s\*])(?<name>[A-Za-z_]\w*)\s*(?:\[\s*(?<len>[^\]]+?)\s*\])?$"))
            .Select(m => m.Success
                ? new CField(NormalizeType(m.Groups["type"].Value), m.Groups["name"].Value,
                             m.Groups["len"].Success ? m.Groups["len"].Value : null)
                : throw new FormatException($"cannot read the struct field \"{m.Value}\""))
            .ToList();

    /// <summary>
    /// The value of an integer #define: an integer constant expression of literals (decimal or hex,
    /// with u/l suffixes), other PA_ integer macros, casts to integer types, unary - ~ and binary
    /// * + - &lt;&lt; &gt;&gt; &amp; ^ |, as a C compiler would print it with <c>(long long)(NAME)</c>.
    /// Null for anything else (strings, declarations, PA_API).
    /// </summary>
    public long? IntegerDefine(string name)
    {
        if (!Defines.TryGetValue(name, out string? value))
            return null;
        return Evaluate(value, depth: 0);
    }

    /// <summary>True when <paramref name="name"/> is an integer-valued macro (see <see cref="IntegerDefine"/>).</summary>
    public bool IsIntegerDefine(string name) => IntegerDefine(name) != null;

    private long? Evaluate(string expression, int depth = 0)
    {
        if (depth > 16)
            return null; // a macro cycle: not a constant
        List<string> tokens = [];
        foreach (Match m in Regex.Matches(expression, @"\s*(?:(?<tok>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|[A-Za-z_]\w*|<<|>>|[-+*~()|&^])|(?<bad>\S))"))
        {
            if (m.Groups["bad"].Success)
                return null;
            tokens.Add(m.Groups["tok"].Value);
        }
        if (tokens.Count == 0)
            return null;
        var parser = new ExpressionParser(tokens, n => Defines.TryGetValue(n, out string? v) ? Evaluate(v, depth + 1)
                                                      : EnumConstants?.TryGetValue(n, out long e) == true ? e : null);
        return parser.Parse();
    }

    /// <summary>Recursive descent over C's integer operators, evaluated in 64-bit two's complement.</summary>
    private sealed class ExpressionParser(List<string> tokens, Func<string, long?> lookup)
    {
        private static readonly Dictionary<string, Func<long, long>> Casts = new()
        {
            ["size_t"] = v => v, ["uintptr_t"] = v => v, ["intptr_t"] = v => v, ["long"] = v => v,
            ["int"] = v => (int)v, ["int32_t"] = v => (int)v, ["unsigned"] = v => (uint)v, ["uint32_t"] = v => (uint)v,
        };
        private static readonly string[][] Levels = [["|"], ["^"], ["&"], ["<<", ">>"], ["+", "-"], ["*"]];
        private int _i;
        private bool _failed;

        public long? Parse()
        {
            long v = Binary(0);
            return _failed || _i != tokens.Count ? null : v;
        }

        private string? Peek(int ahead = 0) => _i + ahead < tokens.Count ? tokens[_i + ahead] : null;

        private long Binary(int level)
        {
            if (level == Levels.Length)
                return Unary();
            long v = Binary(level + 1);
            while (!_failed && Peek() is string op && Levels[level].Contains(op))
            {
                _i++;
                long r = Binary(level + 1);
                v = unchecked(op switch
                {
                    "|" => v | r, "^" => v ^ r, "&" => v & r, "<<" => v << (int)r, ">>" => v >> (int)r,
                    "+" => v + r, "-" => v - r, _ => v * r,
                });
            }
            return v;
        }

        private long Unary()
        {
            switch (Peek())
            {
                case "-": _i++; return unchecked(-Unary());
                case "+": _i++; return Unary();
                case "~": _i++; return ~Unary();
                case "(" when Peek(1) is string type && Casts.ContainsKey(type) && Peek(2) == ")":
                    _i += 3;
                    return Casts[type](Unary());
            }
            return Primary();
        }

        private long Primary()
        {
            string? t = Peek();
            _i++;
            if (t == "(")
            {
                long v = Binary(0);
                if (Peek() != ")")
                    _failed = true;
                _i++;
                return v;
            }
            if (t != null && char.IsDigit(t[0]))
            {
                string digits = t.TrimEnd('u', 'U', 'l', 'L');
                return digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                    ? unchecked((long)ulong.Parse(digits[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture))
                    : unchecked((long)ulong.Parse(digits, CultureInfo.InvariantCulture));
            }
            if (t != null && t.StartsWith("PA_", StringComparison.Ordinal) && lookup(t) is long value)
                return value;
            _failed = true;
            return 0;
        }
    }
}
