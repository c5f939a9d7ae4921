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
using PyAlloc.Bindgen;
using PyAlloc.Core.Debugging;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Agreement;

/// <summary>
/// include/pyalloc.h, the exports of libpyalloc.so, the binding's NativeMethods and the header's types
/// (compiled into both the binding and the core) must describe the same functions, types and layouts. The
/// header is read by libclang (tools/PyAlloc.Bindgen's <see cref="HeaderParser"/>), as a compiler reads it;
/// the binding and the types are generated from that model (NativeMethods.g.cs, HeaderTypes.g.cs), so these
/// tests check what generation cannot: that the checked-in files are fresh, that the library exports what
/// the header declares, that the hand-written parts (the inline functions) agree, that the core has no hand
/// copy of a header struct, and that clang's layouts are gcc's and .NET's in both assemblies.
/// </summary>
/// <remarks>
/// Regenerate the binding after changing the header: <c>dotnet run --project tools/PyAlloc.Bindgen -- generate</c>,
/// or <c>PYALLOC_REGENERATE=1 dotnet test tests/PyAlloc.Tests -c Release --filter HeaderAgreement</c>.
/// </remarks>
[TestFixture]
public sealed class HeaderAgreementTests
{
    private static HeaderModel? _model;

    /// <summary>libclang's model of the header, parsed once.</summary>
    private static HeaderModel Model => _model ??= HeaderParser.Parse(TestEnvironment.HeaderPath);

    private static Dictionary<string, MethodInfo> Imports =>
        typeof(NativeMethods).GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(m => m.GetCustomAttribute<LibraryImportAttribute>() != null)
            .ToDictionary(m => m.Name);

    /// <summary>Public static methods of NativeMethods named pa_* that are not imports: the header's inline functions written in C#.</summary>
    private static Dictionary<string, MethodInfo> CSharpInlines =>
        typeof(NativeMethods).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.Name.StartsWith("pa_", StringComparison.Ordinal) && m.GetCustomAttribute<LibraryImportAttribute>() == null)
            .ToDictionary(m => m.Name);

    private static IEnumerable<CFunction> InlineFunctions => Model.Functions.Where(f => f.IsInline);

    private static string DotNetName(Type t) =>
        t.IsPointer ? DotNetName(t.GetElementType()!) + "*"
        : t == typeof(void) ? "void"
        : t == typeof(nuint) ? "nuint"
        : t == typeof(nint) ? "nint"
        : t == typeof(int) ? "int"
        : t == typeof(uint) ? "uint"
        : t == typeof(ulong) ? "ulong"
        : t == typeof(byte) ? "byte"
        : t.Name;

    /// <summary>A constant's value as C prints it with (long long): unsigned 64-bit values wrap.</summary>
    private static long AsInt64(object value) => value is ulong u ? unchecked((long)u) : Convert.ToInt64(value);

    private static IEnumerable<(string Name, long Value)> IntegerConstants =>
        Model.Macros.Select(m => (m.Name, m.Value)).Concat(Model.Enums.SelectMany(e => e.Constants.Select(c => (c.Name, c.Value))));

    private static string Diff(string title, IEnumerable<string> lines)
    {
        var list = lines.ToList();
        return list.Count == 0 ? "" : title + "\n  " + string.Join("\n  ", list);
    }

    [Test]
    public void GeneratedFiles_AreWhatTheGeneratorWritesFromTheHeader()
    {
        var stale = new List<string>();
        foreach ((string relative, string expected) in BindingWriter.Files(Model))
        {
            string path = Path.Combine(TestEnvironment.RepoRoot, relative);
            if (Environment.GetEnvironmentVariable("PYALLOC_REGENERATE") == "1")
                File.WriteAllText(path, expected);
            if ((File.Exists(path) ? File.ReadAllText(path) : "") != expected)
                stale.Add(relative);
        }
        Assert.That(stale, Is.Empty,
            $"{string.Join(", ", stale)}: stale (the header changed, or the file was edited by hand): regenerate with " +
            "`dotnet run --project tools/PyAlloc.Bindgen -- generate` (or PYALLOC_REGENERATE=1 and this test), then rebuild");
    }

    [Test]
    public void Model_FindsTheDeclarationsOfEverySection()
    {
        HeaderModel model = Model;
        Assert.That(model.Exports.Select(f => f.Name), Does.Contain("pa_malloc").And.Contain("pa_last_error").And.Contain("pa_set_allocator_mode")
            .And.Contain("pa_runtime_new").And.Contain("pa_type_new").And.Contain("pa_list_append").And.Contain("pa_gc_collect").And.Contain("pa_weakref_count")
            .And.Contain("pa_tracemalloc_start").And.Contain("pa_malloc_at").And.Contain("pa_set_fatal_error_handler").And.Contain("pa_pool_map"));
        Assert.That(model.Structs.Select(s => s.Name), Is.EquivalentTo(new[]
        {
            "pa_size_class_stats", "pa_malloc_stats", "pa_object", "pa_var_object", "pa_type_spec", "pa_gc_generation_stats", "pa_gc_info",
            "pa_frame", "pa_statistic", "pa_statistic_diff", "pa_trace", "pa_filter", "pa_type_count", "pa_pool_info", "pa_mem_allocator",
            "pa_mem_arena_allocator",
        }));
        Assert.That(InlineFunctions.Select(f => f.Name), Is.EquivalentTo(new[]
        {
            "pa_object_type", "pa_refcnt", "pa_is_immortal", "pa_incref", "pa_decref", "pa_xincref", "pa_xdecref", "pa_setref", "pa_clear",
        }));
        Assert.That(model.OpaqueTypes, Is.EquivalentTo(new[] { "pa_runtime", "pa_type", "pa_snapshot" }));
        Assert.That(model.Enums.Select(e => e.Name), Is.EquivalentTo(new[] { null, "pa_stat_key", "pa_filter_kind", "pa_mem_domain" }));
        Assert.That(model.FunctionPointerTypes.Select(f => f.Name), Is.EquivalentTo(new[]
        {
            "pa_visitproc", "pa_traverseproc", "pa_inquiry", "pa_destructor", "pa_gc_callback", "pa_weakref_callback",
            "pa_finalize_callback", "pa_fatal_error_handler", "pa_malloc_func", "pa_calloc_func", "pa_realloc_func", "pa_free_func",
            "pa_arena_alloc_func", "pa_arena_free_func",
        }));
        Assert.That(model.Functions.Single(f => f.Name == "pa_gc_get_count").Parameters[1].Type, Is.InstanceOf<CType.Pointer>(),
            "an array parameter is the pointer it decays to");
        Assert.That(model.Struct("pa_malloc_stats").Size, Is.EqualTo(15 * 8 + 32 * 4 * 8));
        Assert.That(model.Struct("pa_filter").Fields.Select(f => f.Offset), Is.EqualTo(new long[] { 0, 4, 8, 16, 20, 24, 28 }));
        Assert.That(model.Macros.Select(m => m.Name), Does.Not.Contain("PA_MALLOC").And.Not.Contain("PA_OBJECT_HEAD").And.Not.Contain("PA_API"),
            "function-like and non-integer macros are not constants");
        Assert.That(model.Macros.Single(m => m.Name == "PA_SIZE_ERROR").UnsignedValue, Is.EqualTo(ulong.MaxValue));
        Assert.That(model.Macros.Single(m => m.Name == "PA_GC_DEBUG_LEAK").Value, Is.EqualTo(2 | 4 | 32), "a macro of other macros");
        Assert.That(model.Macros.Single(m => m.Name == "PA_TRACEBACK_NO_LIMIT").Value, Is.EqualTo(int.MinValue));
    }

    /// <summary>Parses <paramref name="text"/> written to a scratch header file.</summary>
    private static HeaderModel ParseText(string text)
    {
        string dir = TestEnvironment.NewScratchDirectory();
        try
        {
            string header = Path.Combine(dir, "scratch.h");
            File.WriteAllText(header, text);
            return HeaderParser.Parse(header);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Parse_FailsLoudlyOnAHeaderThatDoesNotCompile()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            ParseText("#include <stddef.h>\ntypedef struct pa_x { size_t a; undeclared_t b; } pa_x;\n"));
        Assert.That(e!.Message, Does.Contain("undeclared_t"));
    }

    [Test]
    public void Generate_RefusesACTypeItHasNoRuleFor()
    {
        HeaderModel model = ParseText("#include <stddef.h>\nsize_t pa_fine(const char *s);\ndouble pa_ratio(void);\n");
        Assert.That(model.Exports.Select(f => f.ToString()), Is.EqualTo(new[] { "size_t pa_fine(const char * s)", "double pa_ratio(void)" }));
        var e = Assert.Throws<InvalidOperationException>(() => BindingWriter.Write(model));
        Assert.That(e!.Message, Does.Contain("'double'").And.Contain("BindingTables.Primitives"),
            "a new C type needs a decision, never a guess");
    }

    [Test]
    public void FunctionNames_AreTheSameInTheHeader_TheLibraryExports_AndNativeMethods()
    {
        var inHeader = Model.Exports.Select(f => f.Name).ToHashSet();
        // pa__malloc, pa__tracemalloc_flag, ...: the private interface between the C entry layer (native/entry/entry.c)
        // and the C# core, exported because NativeAOT exports every entry point; not for programs, so neither in the
        // header nor in the binding.  (pa__dealloc and pa__refcnt_error are declared: the header's inline code calls them.)
        var inLibrary = LibrarySymbols.DefinedFunctions(TestEnvironment.NativeLibraryPath)
            .Where(n => n.StartsWith("pa_", StringComparison.Ordinal))
            .Where(n => !n.StartsWith("pa__", StringComparison.Ordinal) || inHeader.Contains(n)).ToHashSet();
        var inBinding = Imports.Keys.ToHashSet();
        var all = inHeader.Union(inLibrary).Union(inBinding).OrderBy(n => n, StringComparer.Ordinal);

        var rows = all.Where(n => !(inHeader.Contains(n) && inLibrary.Contains(n) && inBinding.Contains(n)))
            .Select(n => $"{n,-28} header: {(inHeader.Contains(n) ? "yes" : "NO ")}  libpyalloc.so: {(inLibrary.Contains(n) ? "yes" : "NO ")}  NativeMethods: {(inBinding.Contains(n) ? "yes" : "NO")}")
            .ToList();
        Assert.That(rows, Is.Empty, Diff("pa_* functions that are not in all three places:", rows));
        Assert.That(inHeader, Has.Count.GreaterThan(100));
    }

    [Test]
    public void StaticInlineFunctions_AreWrittenInCSharpInNativeMethods_WithTheGeneratorsTypes()
    {
        Dictionary<string, MethodInfo> written = CSharpInlines;
        var problems = new List<string>();
        foreach (CFunction f in InlineFunctions)
        {
            if (Imports.ContainsKey(f.Name))
                problems.Add($"{f.Name}: imported from the library, but the header defines it static inline (nothing to import)");
            else if (!written.TryGetValue(f.Name, out MethodInfo? m))
                problems.Add($"{f.Name}: no public static C# method NativeMethods.{f.Name}");
            else
            {
                string want = $"{BindingWriter.CSharpType(f.Result)} {f.Name}({string.Join(", ", f.Parameters.Select(p => BindingWriter.CSharpType(p.Type)))})";
                string have = $"{DotNetName(m.ReturnType)} {m.Name}({string.Join(", ", m.GetParameters().Select(p => DotNetName(p.ParameterType)))})";
                if (want != have)
                    problems.Add($"{f}: the generator's types give {want}, NativeMethods has {have}");
            }
        }
        var inlineNames = InlineFunctions.Select(f => f.Name).ToHashSet();
        problems.AddRange(written.Keys.Where(n => !inlineNames.Contains(n))
            .Select(n => $"NativeMethods.{n}: written in C# but the header has no static inline {n}"));
        Assert.That(problems, Is.Empty, Diff("static inline functions:", problems));
        Assert.That(inlineNames, Is.Not.Empty);
    }

    [Test]
    public void StaticInlineFunctions_AreNotExportedByTheLibrary()
    {
        var exported = LibrarySymbols.DefinedFunctions(TestEnvironment.NativeLibraryPath);
        var wrong = InlineFunctions.Select(f => f.Name).Where(exported.Contains).ToList();
        Assert.That(wrong, Is.Empty, "static inline functions that the library also exports: " + string.Join(", ", wrong));
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
            // may free objects, collect or call back into managed code (finalisers, weakref and gc callbacks)
            "pa_runtime_free", "pa_object_new", "pa_object_new_var", "pa__dealloc", "pa__refcnt_error",
            "pa_list_new", "pa_list_set", "pa_list_clear", "pa_gc_collect", "pa_gc_clear_garbage", "pa_weakref_new",
            // the _at forms: as the plain calls (pa_malloc_at may wait for the tracer's lock, which a snapshot holds while addr2line runs)
            "pa_malloc_at", "pa_calloc_at", "pa_realloc_at", "pa_object_new_at", "pa_object_new_var_at", "pa_list_new_at",
            // take the tracer's lock, symbolise (addr2line), sort or do file I/O
            "pa_tracemalloc_start", "pa_tracemalloc_stop", "pa_tracemalloc_get_traced_memory", "pa_tracemalloc_reset_peak",
            "pa_tracemalloc_get_memory", "pa_tracemalloc_clear_traces", "pa_tracemalloc_take_snapshot", "pa_tracemalloc_get_traceback",
            "pa_snapshot_statistics", "pa_snapshot_compare_to", "pa_snapshot_filter", "pa_snapshot_dump", "pa_snapshot_load",
        ];
        var wrong = mustTransition.Where(n => Imports[n].GetCustomAttribute<SuppressGCTransitionAttribute>() != null).ToList();
        Assert.That(wrong, Is.Empty, "[SuppressGCTransition] on: " + string.Join(", ", wrong));
    }

    [Test]
    public void Macros_AndEnumConstants_HaveTheSameValuesInNativeMethods()
    {
        var problems = new List<string>();
        foreach ((string name, long c) in IntegerConstants)
        {
            FieldInfo? field = typeof(NativeMethods).GetField(name, BindingFlags.Public | BindingFlags.Static);
            if (field == null || !field.IsLiteral)
                problems.Add($"{name} = {c}: no constant NativeMethods.{name}");
            else if (AsInt64(field.GetRawConstantValue()!) != c)
                problems.Add($"{name}: {c} in the header, {field.GetRawConstantValue()} in NativeMethods");
        }
        Assert.That(problems, Is.Empty, Diff("macros:", problems));
        Assert.That(IntegerConstants.Select(c => c.Name), Does.Contain("PA_POOL_SIZE").And.Contain("PA_STAT_LINENO").And.Contain("PA_GC_STOP"));
    }

    private static int Macro(string name) => (int)Model.Macros.Single(m => m.Name == name).Value;

    [Test]
    public void Version_ReportedByTheLibrary_IsTheHeadersMacros()
    {
        Assert.That(PyMemory.Version, Is.EqualTo($"{Macro("PA_VERSION_MAJOR")}.{Macro("PA_VERSION_MINOR")}.{Macro("PA_VERSION_PATCH")}"));
    }

    [Test]
    public void Version_OfTheAssembliesAndThePackage_IsTheHeadersMacros()
    {
        // Directory.Build.props reads the header's macros into $(Version): the binding's and the
        // core's assembly versions (and the NuGet package's, tests/package) come from there.
        var expected = new System.Version(Macro("PA_VERSION_MAJOR"), Macro("PA_VERSION_MINOR"), Macro("PA_VERSION_PATCH"), 0);
        Assert.That(typeof(PyMemory).Assembly.GetName().Version, Is.EqualTo(expected), "PyAlloc.dll");
        Assert.That(typeof(PyAlloc.Core.Allocator.Heap).Assembly.GetName().Version, Is.EqualTo(expected), "PyAlloc.Core.dll");
        Assert.That(PyAlloc.Core.Version.Major * 10000 + PyAlloc.Core.Version.Minor * 100 + PyAlloc.Core.Version.Patch,
            Is.EqualTo(expected.Major * 10000 + expected.Minor * 100 + expected.Build), "the core's generated Version.g.cs");
    }

    // ------------------------------------------------------------------ struct layout

    private static int ManagedSize(Type t) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(t).Invoke(null, null)!;

    /// <summary>The instance fields of <paramref name="t"/> with their offsets, in offset order.</summary>
    private static List<(string Name, long Offset)> ManagedFields(Type t) =>
        t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Select(f => (f.Name, Offset: Marshal.OffsetOf(t, f.Name).ToInt64())).OrderBy(f => f.Offset).ToList();

    /// <summary>Size and field offsets of <paramref name="t"/> against clang's layout of <paramref name="s"/>, field by field in order.</summary>
    private static IEnumerable<string> LayoutProblems(CStruct s, Type t)
    {
        if (ManagedSize(t) != s.Size)
            yield return $"sizeof({s.Name}) = {s.Size} (clang), {t.FullName}: {ManagedSize(t)}";
        if (Marshal.SizeOf(t) != s.Size)
            yield return $"sizeof({s.Name}) = {s.Size} (clang), Marshal.SizeOf({t.FullName}) = {Marshal.SizeOf(t)}";
        var net = ManagedFields(t);
        if (net.Count != s.Fields.Count)
        {
            yield return $"{s.Name} has {s.Fields.Count} fields, {t.FullName} {net.Count}: {string.Join(", ", net.Select(f => f.Name))}";
            yield break;
        }
        for (int i = 0; i < net.Count; i++)
            if (net[i].Offset != s.Fields[i].Offset)
                yield return $"offsetof({s.Name}, {s.Fields[i].Name}) = {s.Fields[i].Offset} (clang), {t.FullName}.{net[i].Name}: {net[i].Offset}";
    }

    [Test]
    public void BindingStructs_HaveClangsSizeAndOffsets()
    {
        var problems = new List<string>();
        foreach (CStruct s in Model.Structs)
        {
            Type? t = typeof(NativeMethods).Assembly.GetType("PyAlloc." + BindingWriter.Pascal(s.Name));
            if (t == null)
                problems.Add($"{s.Name}: no struct PyAlloc.{BindingWriter.Pascal(s.Name)}");
            else
                problems.AddRange(LayoutProblems(s, t));
        }
        Assert.That(problems, Is.Empty, Diff("binding structs that disagree with clang:", problems));
    }

    private static readonly Assembly Core = typeof(PyAlloc.Core.Abi.PaMallocStats).Assembly;

    /// <summary>
    /// The core compiles the header's types from the same generated source as the binding, with its own
    /// meaning for the opaque ones (PaType is its TypeObject): each has clang's layout there too.
    /// </summary>
    [Test]
    public void CoreStructs_AreTheHeadersTypes_WithClangsSizeAndOffsets()
    {
        var problems = new List<string>();
        foreach (CStruct s in Model.Structs)
        {
            Type? t = Core.GetType("PyAlloc.Core.Abi." + BindingWriter.Pascal(s.Name));
            if (t == null)
                problems.Add($"{s.Name}: no struct PyAlloc.Core.Abi.{BindingWriter.Pascal(s.Name)} in the core");
            else
                problems.AddRange(LayoutProblems(s, t));
        }
        Assert.That(problems, Is.Empty, Diff("core structs that disagree with clang:", problems));
    }

    /// <summary>snake_case or PascalCase → lower case without underscores, to compare a C field with a C# one.</summary>
    private static string Folded(string name) => name.Replace("_", "").ToLowerInvariant();

    /// <summary>
    /// One definition per C-ABI struct: no struct of the core outside PyAlloc.Core.Abi has the layout
    /// and the field names of a header struct (a hand copy would).
    /// </summary>
    [Test]
    public void Core_HasNoCopyOfAHeaderStruct()
    {
        var copies = new List<string>();
        foreach (Type t in Core.GetTypes().Where(t => t.IsValueType && !t.IsEnum && !t.IsGenericTypeDefinition
                                                       && (t.IsLayoutSequential || t.IsExplicitLayout) && t.Namespace != "PyAlloc.Core.Abi"))
        {
            List<(string Name, long Offset)> fields;
            try
            {
                fields = ManagedFields(t);
            }
            catch (ArgumentException)
            {
                continue; // holds a managed reference: not a C layout, so no copy of one
            }
            foreach (CStruct s in Model.Structs.Where(s => s.Fields.Count == fields.Count && s.Fields.Count > 0))
            {
                int same = s.Fields.Zip(fields).Count(p => p.First.Offset == p.Second.Offset && Folded(p.First.Name) == Folded(p.Second.Name));
                if (same == fields.Count)
                    copies.Add($"{t.FullName} copies {s.Name}: use PyAlloc.Core.Abi.{BindingWriter.Pascal(s.Name)}");
            }
        }
        Assert.That(copies, Is.Empty, Diff("copies of the header's structs:", copies));
    }

    /// <summary>
    /// Compiles a C program against include/pyalloc.h with gcc (the compiler the C users and the library's C
    /// entry use) that prints sizeof and offsetof of every struct field and the value of every integer macro
    /// and enum constant, and compares them with libclang's model, which the binding is generated from.
    /// </summary>
    [Test]
    public void ClangsLayoutsAndMacros_AreWhatGccCompiles()
    {
        HeaderModel model = Model;
        var source = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include \"pyalloc.h\"\nint main(void)\n{\n");
        var expected = new Dictionary<string, long>();
        foreach (CStruct s in model.Structs)
        {
            source.Append($"    printf(\"sizeof {s.Name} %zu\\n\", sizeof({s.Name}));\n");
            expected[$"sizeof {s.Name}"] = s.Size;
            foreach (CField f in s.Fields)
            {
                source.Append($"    printf(\"offsetof {s.Name}.{f.Name} %zu\\n\", offsetof({s.Name}, {f.Name}));\n");
                expected[$"offsetof {s.Name}.{f.Name}"] = f.Offset;
            }
        }
        foreach ((string name, long value) in IntegerConstants)
        {
            source.Append($"    printf(\"define {name} %lld\\n\", (long long)({name}));\n");
            expected[$"define {name}"] = value;
        }
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

        var gcc = Regex.Matches(output, @"^(?<key>\S+ \S+) (?<value>-?\d+)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups["key"].Value, m => long.Parse(m.Groups["value"].Value));
        var problems = expected.Where(e => !gcc.TryGetValue(e.Key, out long g) || g != e.Value)
            .Select(e => $"{e.Key}: clang {e.Value}, gcc {(gcc.TryGetValue(e.Key, out long g) ? g.ToString() : "nothing")}").ToList();
        Assert.That(problems, Is.Empty, Diff("clang and gcc disagree:", problems));
        Assert.That(gcc, Has.Count.EqualTo(expected.Count));
    }
}
