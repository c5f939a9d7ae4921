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
    /// <summary>C type (normalised) → the binding types allowed for it, where the rule below does not decide.</summary>
    private static readonly Dictionary<string, string[]> TypeMap = new()
    {
        ["void"] = ["void"],
        ["void*"] = ["void*"],
        ["const void*"] = ["void*"],
        ["const char*"] = ["byte*"],
        ["char*"] = ["byte*"],             // an output buffer (pa_statistic_format)
        ["FILE*"] = ["void*", "nint"],
        ["void**"] = ["void**"],                  // an out-parameter for a user pointer (pa_finalize_peek)
        ["pa_finalize_callback*"] = ["void**"],   // an out-parameter for a callback (pa_finalize_peek)
    };

    /// <summary>Base C types → .NET; pointers keep their stars, <c>const</c> and <c>struct</c> go.</summary>
    private static readonly Dictionary<string, string> BaseTypeMap = new()
    {
        ["size_t"] = "nuint",
        ["int"] = "int",
        ["unsigned"] = "uint",
        ["unsigned int"] = "uint",
        ["uintptr_t"] = "nuint",
        ["intptr_t"] = "nint",
        ["ptrdiff_t"] = "nint",
        ["uint64_t"] = "ulong",
    };

    /// <summary>
    /// The .NET types the binding may use for the C type <paramref name="cType"/>: the table above,
    /// else the base type (a primitive of <see cref="BaseTypeMap"/>, or a struct or opaque type of the
    /// header in PascalCase) with the same number of stars, else for a function pointer typedef
    /// <c>delegate* unmanaged&lt;params, ret&gt;</c> built the same way. Null when nothing applies.
    /// </summary>
    private static string[]? Allowed(CHeader header, string cType)
    {
        if (TypeMap.TryGetValue(cType, out string[]? direct))
            return direct;
        string t = Regex.Replace(cType, @"\b(const|struct)\b", " ");
        t = CHeader.NormalizeType(t);
        int stars = t.Length - t.TrimEnd('*').Length;
        string baseType = t.TrimEnd('*');
        string starText = new('*', stars);
        if (BaseTypeMap.TryGetValue(baseType, out string? net))
            return [net + starText];
        if (header.Structs.Any(s => s.Name == baseType) || header.OpaqueTypes.Contains(baseType) || header.EnumTypes.Contains(baseType))
            return [Pascal(baseType) + starText];
        if (stars == 0 && header.FunctionPointerTypes.TryGetValue(baseType, out CFunction? f))
        {
            string[]?[] parts = [.. f.ParameterTypes.Select(p => Allowed(header, p)), Allowed(header, f.ReturnType)];
            return parts.Any(p => p == null) ? null : [$"delegate* unmanaged<{string.Join(", ", parts.Select(p => p![0]))}>"];
        }
        return null;
    }

    private static CHeader Header => new(File.ReadAllText(TestEnvironment.HeaderPath));

    private static Dictionary<string, MethodInfo> Imports =>
        typeof(NativeMethods).GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(m => m.GetCustomAttribute<LibraryImportAttribute>() != null)
            .ToDictionary(m => m.Name);

    /// <summary>snake_case → PascalCase, the binding's rule for struct and field names.</summary>
    private static string Pascal(string snake) =>
        string.Concat(snake.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    private static string DotNetName(Type t) =>
        t.IsFunctionPointer
            ? $"delegate*{(t.IsUnmanagedFunctionPointer ? " unmanaged" : "")}<{string.Join(", ", t.GetFunctionPointerParameterTypes().Append(t.GetFunctionPointerReturnType()).Select(DotNetName))}>"
        : t.IsPointer ? DotNetName(t.GetElementType()!) + "*"
        : t == typeof(void) ? "void"
        : t == typeof(nuint) ? "nuint"
        : t == typeof(nint) ? "nint"
        : t == typeof(int) ? "int"
        : t == typeof(uint) ? "uint"
        : t == typeof(ulong) ? "ulong"
        : t == typeof(byte) ? "byte"
        : t.Name;

    /// <summary>Public static methods of NativeMethods named pa_* that are not imports: the header's inline functions written in C#.</summary>
    private static Dictionary<string, MethodInfo> CSharpInlines =>
        typeof(NativeMethods).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.Name.StartsWith("pa_", StringComparison.Ordinal) && m.GetCustomAttribute<LibraryImportAttribute>() == null)
            .ToDictionary(m => m.Name);

    /// <summary>Compares a C signature with a .NET method through <see cref="Allowed"/>; the problems found.</summary>
    private static IEnumerable<string> SignatureProblems(CHeader header, CFunction f, MethodInfo m)
    {
        string[] cTypes = [f.ReturnType, .. f.ParameterTypes];
        string[] netTypes = [DotNetName(m.ReturnType), .. m.GetParameters().Select(p => DotNetName(p.ParameterType))];
        string netSignature = $"{netTypes[0]} {m.Name}({string.Join(", ", netTypes.Skip(1))})";
        if (cTypes.Length != netTypes.Length)
        {
            yield return $"{f}  vs  {netSignature}: {f.ParameterTypes.Count} parameters in C, {netTypes.Length - 1} in .NET";
            yield break;
        }
        for (int i = 0; i < cTypes.Length; i++)
        {
            string where = i == 0 ? "return type" : $"parameter {i}";
            string[]? allowed = Allowed(header, cTypes[i]);
            if (allowed == null)
                yield return $"{f}: {where}: no mapping for the C type '{cTypes[i]}' (extend the table)";
            else if (!allowed.Contains(netTypes[i]))
                yield return $"{f}  vs  {netSignature}: {where} is {netTypes[i]}, the table wants {string.Join(" or ", allowed)}";
        }
    }

    /// <summary>A constant's value as C prints it with (long long): unsigned 64-bit values wrap.</summary>
    private static long AsInt64(object value) => value is ulong u ? unchecked((long)u) : Convert.ToInt64(value);

    private static string Diff(string title, IEnumerable<string> lines)
    {
        var list = lines.ToList();
        return list.Count == 0 ? "" : title + "\n  " + string.Join("\n  ", list);
    }

    [Test]
    public void HeaderParser_FindsTheDeclarationsOfEverySection()
    {
        CHeader header = Header;
        Assert.That(header.Functions.Select(f => f.Name), Does.Contain("pa_malloc").And.Contain("pa_last_error").And.Contain("pa_set_allocator_mode")
            .And.Contain("pa_runtime_new").And.Contain("pa_type_new").And.Contain("pa_list_append").And.Contain("pa_gc_collect").And.Contain("pa_weakref_count")
            .And.Contain("pa_set_fatal_error_handler").And.Contain("pa_debug_check_block"),
            "the parser missed declarations: " + string.Join(", ", header.Functions));
        Assert.That(header.Structs.Select(s => s.Name), Is.EquivalentTo(new[]
        {
            "pa_size_class_stats", "pa_malloc_stats", "pa_object", "pa_var_object", "pa_type_spec", "pa_gc_generation_stats", "pa_gc_info",
            "pa_frame", "pa_statistic", "pa_statistic_diff", "pa_trace", "pa_filter", "pa_type_count", "pa_pool_info", "pa_mem_allocator",
            "pa_mem_arena_allocator",
        }));
        Assert.That(header.InlineFunctions.Select(f => f.Name), Is.EquivalentTo(new[]
        {
            "pa_object_type", "pa_refcnt", "pa_is_immortal", "pa_incref", "pa_decref", "pa_xincref", "pa_xdecref", "pa_setref", "pa_clear",
        }));
        Assert.That(header.OpaqueTypes, Is.EquivalentTo(new[] { "pa_runtime", "pa_type", "pa_snapshot" }));
        Assert.That(header.EnumTypes, Is.EquivalentTo(new[] { "pa_stat_key", "pa_filter_kind", "pa_mem_domain" }));
        Assert.That(header.FunctionPointerTypes.Keys, Is.EquivalentTo(new[]
        {
            "pa_visitproc", "pa_traverseproc", "pa_inquiry", "pa_destructor", "pa_gc_callback", "pa_weakref_callback",
            "pa_finalize_callback", "pa_fatal_error_handler", "pa_malloc_func", "pa_calloc_func", "pa_realloc_func", "pa_free_func",
            "pa_arena_alloc_func", "pa_arena_free_func",
        }));
        Assert.That(header.Functions.Single(f => f.Name == "pa_calloc").ToString(), Is.EqualTo("void* pa_calloc(size_t, size_t)"));
        Assert.That(header.Functions.Single(f => f.Name == "pa_usable_size").ToString(), Is.EqualTo("size_t pa_usable_size(const void*)"));
        Assert.That(header.Functions.Single(f => f.Name == "pa_trim").ParameterTypes, Is.Empty);
        Assert.That(header.Functions.Single(f => f.Name == "pa_gc_get_count").ToString(), Is.EqualTo("void pa_gc_get_count(pa_runtime*, intptr_t*)"),
            "an array parameter is the pointer it decays to");
        Assert.That(header.InlineFunctions.Single(f => f.Name == "pa_setref").ToString(), Is.EqualTo("void pa_setref(pa_object**, pa_object*)"));
        Assert.That(header.FunctionPointerTypes["pa_gc_callback"].ToString(), Is.EqualTo("void pa_gc_callback(pa_runtime*, int, const pa_gc_info*, void*)"));
        Assert.That(header.Structs.Single(s => s.Name == "pa_object").Fields.Select(f => f.Type), Is.EqualTo(new[] { "intptr_t", "struct pa_type*" }));
        Assert.That(header.EnumConstants, Is.EquivalentTo(new Dictionary<string, long>
        {
            ["PA_GC_START"] = 0, ["PA_GC_STOP"] = 1, ["PA_STAT_FILENAME"] = 0, ["PA_STAT_LINENO"] = 1, ["PA_STAT_TRACEBACK"] = 2,
            ["PA_FILTER"] = 0, ["PA_DOMAIN_FILTER"] = 1, ["PA_MEM_DOMAIN_RAW"] = 0, ["PA_MEM_DOMAIN_MEM"] = 1, ["PA_MEM_DOMAIN_OBJ"] = 2,
        }));
        Assert.That(header.Functions.Single(f => f.Name == "pa_snapshot_statistics").ToString(),
            Is.EqualTo("size_t pa_snapshot_statistics(const pa_snapshot*, pa_stat_key, pa_statistic*, size_t)"));
        Assert.That(header.Structs.Single(s => s.Name == "pa_statistic_diff").Fields.Select(f => f.Name), Is.EqualTo(new[]
        {
            "filename", "lineno", "frames", "nframes", "size", "size_diff", "count", "count_diff",
        }), "several fields declared on one line");
        Assert.That(header.IsIntegerDefine("PA_MALLOC"), Is.False, "a function-like macro is not a constant");
        Assert.That(header.IntegerDefine("PA_SIZE_ERROR"), Is.EqualTo(-1L), "((size_t)-1) as (long long) prints it");
        Assert.That(header.IntegerDefine("PA_TPFLAGS_HAVE_GC"), Is.EqualTo(1L << 14));
        Assert.That(header.IntegerDefine("PA_GC_DEBUG_LEAK"), Is.EqualTo(2L | 4 | 32), "a macro of other macros");
        Assert.That(header.IsIntegerDefine("PA_OBJECT_HEAD"), Is.False);
        Assert.That(header.IsIntegerDefine("PA_API"), Is.False);
    }

    [Test]
    public void FunctionNames_AreTheSameInTheHeader_TheLibraryExports_AndNativeMethods()
    {
        var inHeader = Header.Functions.Select(f => f.Name).Where(n => n.StartsWith("pa_", StringComparison.Ordinal)).ToHashSet();
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
        Assert.That(inHeader, Is.Not.Empty);
    }

    [Test]
    public void EveryFunction_HasTheBindingSignatureTheTypeTableGives()
    {
        CHeader header = Header;
        Dictionary<string, MethodInfo> imports = Imports;
        var problems = new List<string>();
        foreach (CFunction f in header.Functions)
        {
            if (imports.TryGetValue(f.Name, out MethodInfo? m))
                problems.AddRange(SignatureProblems(header, f, m)); // a missing import is reported by the name test
        }
        Assert.That(problems, Is.Empty, Diff("signatures that disagree:", problems));
    }

    /// <summary>
    /// The header's static inline functions (pa_incref, pa_decref, ...) are not exported: the binding writes
    /// them in C#, in NativeMethods under the C name, with the mapped signature, and imports none of them.
    /// </summary>
    [Test]
    public void StaticInlineFunctions_AreWrittenInCSharpInNativeMethods_WithTheMappedSignature()
    {
        CHeader header = Header;
        Dictionary<string, MethodInfo> written = CSharpInlines;
        var problems = new List<string>();
        foreach (CFunction f in header.InlineFunctions)
        {
            if (Imports.ContainsKey(f.Name))
                problems.Add($"{f.Name}: imported from the library, but the header defines it static inline (nothing to import)");
            else if (!written.TryGetValue(f.Name, out MethodInfo? m))
                problems.Add($"{f.Name}: no public static C# method NativeMethods.{f.Name}");
            else
                problems.AddRange(SignatureProblems(header, f, m));
        }
        var inlineNames = header.InlineFunctions.Select(f => f.Name).ToHashSet();
        problems.AddRange(written.Keys.Where(n => !inlineNames.Contains(n))
            .Select(n => $"NativeMethods.{n}: written in C# but the header has no static inline {n}"));
        Assert.That(problems, Is.Empty, Diff("static inline functions:", problems));
        Assert.That(header.InlineFunctions, Is.Not.Empty);
    }

    [Test]
    public void StaticInlineFunctions_AreNotExportedByTheLibraryNorDeclaredPA_API()
    {
        CHeader header = Header;
        var exported = LibrarySymbols.DefinedFunctions(TestEnvironment.NativeLibraryPath);
        var declared = header.Functions.Select(f => f.Name).ToHashSet();
        var wrong = header.InlineFunctions.Select(f => f.Name).Where(n => exported.Contains(n) || declared.Contains(n)).ToList();
        Assert.That(wrong, Is.Empty, "static inline functions that are also exported or PA_API: " + string.Join(", ", wrong));
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
        CHeader header = Header;
        var constants = header.Defines.Keys.Where(header.IsIntegerDefine).Select(n => (Name: n, Value: header.IntegerDefine(n)!.Value))
            .Concat(header.EnumConstants.Select(e => (Name: e.Key, e.Value)));
        var problems = new List<string>();
        foreach ((string name, long c) in constants)
        {
            FieldInfo? field = typeof(NativeMethods).GetField(name, BindingFlags.Public | BindingFlags.Static);
            if (field == null || !field.IsLiteral)
                problems.Add($"{name} = {c}: no constant NativeMethods.{name}");
            else if (AsInt64(field.GetRawConstantValue()!) != c)
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

    [Test]
    public void Version_OfTheAssembliesAndThePackage_IsTheHeadersMacros()
    {
        // Directory.Build.props reads the header's macros into $(Version): the binding's and the
        // core's assembly versions (and the NuGet package's, tests/package) come from there.
        CHeader header = Header;
        var expected = new System.Version((int)header.IntegerDefine("PA_VERSION_MAJOR"),
            (int)header.IntegerDefine("PA_VERSION_MINOR"), (int)header.IntegerDefine("PA_VERSION_PATCH"), 0);
        Assert.That(typeof(PyMemory).Assembly.GetName().Version, Is.EqualTo(expected), "PyAlloc.dll");
        Assert.That(typeof(PyAlloc.Core.Allocator.Heap).Assembly.GetName().Version, Is.EqualTo(expected), "PyAlloc.Core.dll");
        Assert.That(PyAlloc.Core.Version.Major * 10000 + PyAlloc.Core.Version.Minor * 100 + PyAlloc.Core.Version.Patch,
            Is.EqualTo(expected.Major * 10000 + expected.Minor * 100 + expected.Build), "the core's generated Version.g.cs");
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
        if (type is "size_t" or "intptr_t" or "uintptr_t" or "ptrdiff_t" || type.EndsWith('*') || header.FunctionPointerTypes.ContainsKey(type))
            return (8, 8);
        if (type is "int" or "unsigned" or "unsigned int" || header.EnumTypes.Contains(type))
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
    public void Structs_HaveTheSizeTheHeadersFieldsGive()
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
            Assert.That(CLayout(header, "pa_malloc_stats").Size, Is.EqualTo(15 * 8 + 32 * 4 * 8), "the header's pa_malloc_stats");
        }
    }

    [Test]
    public void Structs_FieldsAreInTheSameOrderWithTheSameNames()
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
    /// Every field has the .NET type the type table gives for its C type; an array field
    /// (<c>classes[PA_NUM_SIZE_CLASSES]</c>) is an [InlineArray] of that length over the element's type.
    /// </summary>
    [Test]
    public void Structs_FieldTypesAreTheOnesTheTypeTableGives()
    {
        CHeader header = Header;
        var problems = new List<string>();
        foreach (CStruct s in header.Structs)
        {
            Type t = BindingStruct(s.Name);
            foreach (CField f in s.Fields)
            {
                FieldInfo? field = t.GetField(Pascal(f.Name), BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
                if (field == null)
                    continue; // reported by the field-list test
                Type netType = field.FieldType;
                string label = $"{s.Name}.{f.Name} ({f.Type}{(f.ArrayLength != null ? $"[{f.ArrayLength}]" : "")}) / {t.Name}.{field.Name}";
                if (f.ArrayLength != null)
                {
                    var inline = netType.GetCustomAttribute<InlineArrayAttribute>();
                    long length = header.IntegerDefine(f.ArrayLength) ?? long.Parse(f.ArrayLength);
                    if (inline == null || inline.Length != length)
                    {
                        problems.Add($"{label}: {netType.Name} is not an [InlineArray({length})]");
                        continue;
                    }
                    netType = netType.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Single().FieldType;
                }
                string[]? allowed = Allowed(header, f.Type);
                if (allowed == null)
                    problems.Add($"{label}: no mapping for the C type '{f.Type}' (extend the table)");
                else if (!allowed.Contains(DotNetName(netType)))
                    problems.Add($"{label}: {DotNetName(netType)}, the table wants {string.Join(" or ", allowed)}");
            }
        }
        Assert.That(problems, Is.Empty, Diff("field types:", problems));
    }

    /// <summary>
    /// Compiles a C program against include/pyalloc.h that prints sizeof and offsetof of every
    /// struct field and the value of every integer macro and enum constant, and compares them with the binding.
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
        foreach (string name in header.Defines.Keys.Where(header.IsIntegerDefine).Concat(header.EnumConstants.Keys))
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
        foreach (Match m in Regex.Matches(output, @"^(?<what>sizeof|offsetof|define) (?<a>\w+)(?: (?<b>\w+))? (?<value>-?\d+)$", RegexOptions.Multiline))
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
                    net = AsInt64(constant.GetRawConstantValue()!);
                    break;
            }
            compared++;
            if (net != value)
                problems.Add($"{label}: C says {value}, .NET says {net}");
        }
        Assert.That(problems, Is.Empty, Diff("layouts that disagree with gcc:", problems));
        int expected = header.Structs.Sum(s => 1 + s.Fields.Count) + header.Defines.Keys.Count(header.IsIntegerDefine) + header.EnumConstants.Count;
        Assert.That(compared, Is.EqualTo(expected), "the C program printed fewer lines than it should:\n" + output);
    }
}
