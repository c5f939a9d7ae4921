using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Agreement;

/// <summary>
/// include/pyalloc.h, the exports of libpyalloc.so and the binding's NativeMethods must
/// describe the same functions, with the same types and the same struct layouts.
/// </summary>
[TestFixture]
public sealed class HeaderAgreementTests
{
    /// <summary>C type (normalised) → the binding types allowed for it.</summary>
    private static readonly Dictionary<string, string[]> TypeMap = new()
    {
        ["size_t"] = ["nuint"],
        ["int"] = ["int"],
        ["void"] = ["void"],
        ["void*"] = ["void*"],
        ["const void*"] = ["void*"],
        ["const char*"] = ["byte*"],
        ["FILE*"] = ["void*", "nint"],
        ["pa_malloc_stats*"] = ["PaMallocStats*"],
    };

    private static CHeader Header => new(File.ReadAllText(TestEnvironment.HeaderPath));

    private static Dictionary<string, MethodInfo> Imports =>
        typeof(NativeMethods).GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(m => m.GetCustomAttribute<LibraryImportAttribute>() != null)
            .ToDictionary(m => m.Name);

    /// <summary>snake_case → PascalCase, the binding's rule for struct and field names.</summary>
    private static string Pascal(string snake) =>
        string.Concat(snake.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    private static string DotNetName(Type t) =>
        t.IsPointer ? DotNetName(t.GetElementType()!) + "*"
        : t == typeof(void) ? "void"
        : t == typeof(nuint) ? "nuint"
        : t == typeof(nint) ? "nint"
        : t == typeof(int) ? "int"
        : t == typeof(byte) ? "byte"
        : t.Name;

    private static string Diff(string title, IEnumerable<string> lines)
    {
        var list = lines.ToList();
        return list.Count == 0 ? "" : title + "\n  " + string.Join("\n  ", list);
    }

    [Test]
    public void HeaderParser_FindsTheDeclarationsOfEverySection()
    {
        CHeader header = Header;
        Assert.That(header.Functions.Select(f => f.Name), Does.Contain("pa_malloc").And.Contain("pa_last_error").And.Contain("pa_set_allocator_mode"),
            "the parser missed declarations: " + string.Join(", ", header.Functions));
        Assert.That(header.Structs.Select(s => s.Name), Is.EquivalentTo(new[] { "pa_size_class_stats", "pa_malloc_stats" }));
        Assert.That(header.Functions.Single(f => f.Name == "pa_calloc").ToString(), Is.EqualTo("void* pa_calloc(size_t, size_t)"));
        Assert.That(header.Functions.Single(f => f.Name == "pa_usable_size").ToString(), Is.EqualTo("size_t pa_usable_size(const void*)"));
        Assert.That(header.Functions.Single(f => f.Name == "pa_trim").ParameterTypes, Is.Empty);
    }

    [Test]
    public void FunctionNames_AreTheSameInTheHeader_TheLibraryExports_AndNativeMethods()
    {
        var inHeader = Header.Functions.Select(f => f.Name).Where(n => n.StartsWith("pa_", StringComparison.Ordinal)).ToHashSet();
        var inLibrary = LibrarySymbols.DefinedFunctions(TestEnvironment.NativeLibraryPath).Where(n => n.StartsWith("pa_", StringComparison.Ordinal)).ToHashSet();
        var inBinding = Imports.Keys.ToHashSet();
        var all = inHeader.Union(inLibrary).Union(inBinding).OrderBy(n => n, StringComparer.Ordinal);

        var rows = all.Where(n => !(inHeader.Contains(n) && inLibrary.Contains(n) && inBinding.Contains(n)))
            .Select(n => $"{n,-28} header: {(inHeader.Contains(n) ? "yes" : "NO ")}  libpyalloc.so: {(inLibrary.Contains(n) ? "yes" : "NO ")}  NativeMethods: {(inBinding.Contains(n) ? "yes" : "NO")}")
            .ToList();
        Assert.That(rows, Is.Empty, Diff("pa_* functions that are not in all three places:", rows));
        Assert.That(inHeader, Is.Not.Empty);
    }

    [Test]
    public void EveryFunction_HasTheBindingSignatureTheTypeTableGives()
    {
        Dictionary<string, MethodInfo> imports = Imports;
        var problems = new List<string>();
        foreach (CFunction f in Header.Functions)
        {
            if (!imports.TryGetValue(f.Name, out MethodInfo? m))
                continue; // reported by the name test
            string[] cTypes = [f.ReturnType, .. f.ParameterTypes];
            string[] netTypes = [DotNetName(m.ReturnType), .. m.GetParameters().Select(p => DotNetName(p.ParameterType))];
            string netSignature = $"{netTypes[0]} {m.Name}({string.Join(", ", netTypes.Skip(1))})";
            if (cTypes.Length != netTypes.Length)
            {
                problems.Add($"{f}  vs  {netSignature}: {f.ParameterTypes.Count} parameters in C, {netTypes.Length - 1} in .NET");
                continue;
            }
            for (int i = 0; i < cTypes.Length; i++)
            {
                string where = i == 0 ? "return type" : $"parameter {i}";
                if (!TypeMap.TryGetValue(cTypes[i], out string[]? allowed))
                    problems.Add($"{f}: {where}: no mapping for the C type '{cTypes[i]}' (extend the table)");
                else if (!allowed.Contains(netTypes[i]))
                    problems.Add($"{f}  vs  {netSignature}: {where} is {netTypes[i]}, the table wants {string.Join(" or ", allowed)}");
            }
        }
        Assert.That(problems, Is.Empty, Diff("signatures that disagree:", problems));
    }

    [Test]
    public void NativeMethods_ImportEachFunctionFromPyAllocUnderItsCName()
    {
        var problems = new List<string>();
        foreach (MethodInfo m in Imports.Values)
        {
            var import = m.GetCustomAttribute<LibraryImportAttribute>()!;
            if (import.LibraryName != NativeMethods.LibraryName)
                problems.Add($"{m.Name}: imported from '{import.LibraryName}'");
            if (import.EntryPoint != null && import.EntryPoint != m.Name)
                problems.Add($"{m.Name}: entry point '{import.EntryPoint}'");
            if (!m.IsPublic || !m.IsStatic)
                problems.Add($"{m.Name}: not public static");
        }
        Assert.That(problems, Is.Empty, Diff("imports:", problems));
    }

    [Test]
    public void SuppressGCTransition_IsNotOnCallsThatPrintCopyOrTakeLong()
    {
        string[] mustTransition =
        [
            "pa_calloc", "pa_realloc", "pa_trim", "pa_get_malloc_stats", "pa_print_malloc_stats",
            "pa_set_allocator_mode", "pa_get_allocator_mode",
        ];
        var wrong = mustTransition.Where(n => Imports[n].GetCustomAttribute<SuppressGCTransitionAttribute>() != null).ToList();
        Assert.That(wrong, Is.Empty, "[SuppressGCTransition] on: " + string.Join(", ", wrong));
    }

    [Test]
    public void Macros_HaveTheSameValuesInNativeMethods()
    {
        CHeader header = Header;
        var problems = new List<string>();
        foreach (string name in header.Defines.Keys.Where(header.IsIntegerDefine))
        {
            long c = header.IntegerDefine(name)!.Value;
            FieldInfo? field = typeof(NativeMethods).GetField(name, BindingFlags.Public | BindingFlags.Static);
            if (field == null || !field.IsLiteral)
                problems.Add($"{name} = {c}: no constant NativeMethods.{name}");
            else if (Convert.ToInt64(field.GetRawConstantValue()) != c)
                problems.Add($"{name}: {c} in the header, {field.GetRawConstantValue()} in NativeMethods");
        }
        Assert.That(problems, Is.Empty, Diff("macros:", problems));
        Assert.That(header.IsIntegerDefine("PA_POOL_SIZE"), Is.True, "the parser should evaluate ((size_t)16 * 1024)");
    }

    [Test]
    public void Version_ReportedByTheLibrary_IsTheHeadersMacros()
    {
        CHeader header = Header;
        string expected = $"{header.IntegerDefine("PA_VERSION_MAJOR")}.{header.IntegerDefine("PA_VERSION_MINOR")}.{header.IntegerDefine("PA_VERSION_PATCH")}";
        Assert.That(PyMemory.Version, Is.EqualTo(expected));
    }

    // ------------------------------------------------------------------ struct layout

    private static Type BindingStruct(string cName) =>
        typeof(NativeMethods).Assembly.GetType("PyAlloc." + Pascal(cName))
        ?? throw new AssertionException($"the binding has no struct PyAlloc.{Pascal(cName)} for {cName}");

    private static int ManagedSize(Type t) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(t).Invoke(null, null)!;

    /// <summary>Size and alignment of a C type on LP64, from the header's own field lists.</summary>
    private static (long Size, long Align) CLayout(CHeader header, string type)
    {
        if (type == "size_t" || type.EndsWith('*'))
            return (8, 8);
        if (type == "int")
            return (4, 4);
        CStruct s = header.Structs.SingleOrDefault(x => x.Name == type)
            ?? throw new AssertionException($"unknown C type {type}");
        long offset = 0, align = 1;
        foreach (CField f in s.Fields)
        {
            (long size, long a) = CLayout(header, f.Type);
            long count = f.ArrayLength == null ? 1 : header.IntegerDefine(f.ArrayLength) ?? long.Parse(f.ArrayLength);
            offset = (offset + a - 1) / a * a + size * count;
            align = Math.Max(align, a);
        }
        return ((offset + align - 1) / align * align, align);
    }

    [Test]
    public void StatsStructs_HaveTheSizeTheHeadersFieldsGive()
    {
        CHeader header = Header;
        using (Assert.EnterMultipleScope())
        {
            foreach (CStruct s in header.Structs)
            {
                Type t = BindingStruct(s.Name);
                Assert.That(ManagedSize(t), Is.EqualTo(CLayout(header, s.Name).Size), $"sizeof({s.Name}) vs {t.Name}");
                Assert.That(Marshal.SizeOf(t), Is.EqualTo(CLayout(header, s.Name).Size), $"Marshal.SizeOf({t.Name})");
            }
            Assert.That(CLayout(header, "pa_malloc_stats").Size, Is.EqualTo(14 * 8 + 32 * 4 * 8), "the header's pa_malloc_stats");
        }
    }

    [Test]
    public void StatsStructs_FieldsAreInTheSameOrderWithTheSameNames()
    {
        var problems = new List<string>();
        foreach (CStruct s in Header.Structs)
        {
            Type t = BindingStruct(s.Name);
            string[] net = t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                .OrderBy(f => Marshal.OffsetOf(t, f.Name).ToInt64()).Select(f => f.Name).ToArray();
            string[] c = s.Fields.Select(f => Pascal(f.Name)).ToArray();
            if (!net.SequenceEqual(c))
                problems.Add($"{s.Name}: C fields (PascalCase) {string.Join(", ", c)}\n    {t.Name}: {string.Join(", ", net)}");
        }
        Assert.That(problems, Is.Empty, Diff("field lists:", problems));
    }

    /// <summary>
    /// Compiles a C program against include/pyalloc.h that prints sizeof and offsetof of every
    /// struct field and the value of every integer macro, and compares them with the binding.
    /// </summary>
    [Test]
    public void StructLayoutsAndMacros_AreWhatGccCompiles()
    {
        CHeader header = Header;
        var source = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include \"pyalloc.h\"\nint main(void)\n{\n");
        foreach (CStruct s in header.Structs)
        {
            source.Append($"    printf(\"sizeof {s.Name} %zu\\n\", sizeof({s.Name}));\n");
            foreach (CField f in s.Fields)
                source.Append($"    printf(\"offsetof {s.Name} {f.Name} %zu\\n\", offsetof({s.Name}, {f.Name}));\n");
        }
        foreach (string name in header.Defines.Keys.Where(header.IsIntegerDefine))
            source.Append($"    printf(\"define {name} %lld\\n\", (long long)({name}));\n");
        source.Append("    return 0;\n}\n");

        string dir = TestEnvironment.NewScratchDirectory();
        string output;
        try
        {
            string c = Path.Combine(dir, "layout.c"), exe = Path.Combine(dir, "layout");
            File.WriteAllText(c, source.ToString());
            Processes.Run("gcc", "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I", TestEnvironment.IncludeDir, c, "-o", exe);
            output = Processes.Run(exe);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var problems = new List<string>();
        int compared = 0;
        foreach (Match m in Regex.Matches(output, @"^(?<what>sizeof|offsetof|define) (?<a>\w+)(?: (?<b>\w+))? (?<value>\d+)$", RegexOptions.Multiline))
        {
            long value = long.Parse(m.Groups["value"].Value);
            string a = m.Groups["a"].Value, b = m.Groups["b"].Value;
            long net;
            string label;
            switch (m.Groups["what"].Value)
            {
                case "sizeof":
                    net = ManagedSize(BindingStruct(a));
                    label = $"sizeof({a}) / sizeof({Pascal(a)})";
                    break;
                case "offsetof":
                    Type t = BindingStruct(a);
                    label = $"offsetof({a}, {b}) / {Pascal(a)}.{Pascal(b)}";
                    if (t.GetField(Pascal(b), BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic) == null)
                    {
                        problems.Add($"{label}: no such .NET field");
                        continue;
                    }
                    net = Marshal.OffsetOf(t, Pascal(b)).ToInt64();
                    break;
                default:
                    label = $"{a} / NativeMethods.{a}";
                    FieldInfo? constant = typeof(NativeMethods).GetField(a);
                    if (constant == null)
                    {
                        problems.Add($"{label}: no such constant");
                        continue;
                    }
                    net = Convert.ToInt64(constant.GetRawConstantValue());
                    break;
            }
            compared++;
            if (net != value)
                problems.Add($"{label}: C says {value}, .NET says {net}");
        }
        Assert.That(problems, Is.Empty, Diff("layouts that disagree with gcc:", problems));
        int expected = header.Structs.Sum(s => 1 + s.Fields.Count) + header.Defines.Keys.Count(header.IsIntegerDefine);
        Assert.That(compared, Is.EqualTo(expected), "the C program printed fewer lines than it should:\n" + output);
    }
}
