using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Bindgen;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Agreement;

/// <summary>
/// Every [UnmanagedCallersOnly] export of libpyalloc.so against its C declaration: the header's functions
/// (include/pyalloc.h) and the core's private entry points (native/entry/private.h, the one C declaration of
/// each pa__* function the C entry calls). Both files are read through libclang, as the binding generator
/// reads the header; the exports' signatures come from the export layer's assembly (libpyalloc.dll, the IL that
/// NativeAOT compiles). A parameter added, dropped or retyped on one side only fails here instead of
/// corrupting a call.
/// </summary>
/// <remarks>
/// The C → C# rules are the generator's (<see cref="BindingTables.Primitives"/>), with the core's own types
/// for the records it hands out: a <c>pa_runtime*</c> is the core's <c>Runtime*</c>, a <c>pa_type*</c> its
/// <c>TypeObject*</c>, a <c>pa_snapshot*</c> a handle (<c>nint</c>), the header's structs the generated
/// <c>PyAlloc.Core.Abi</c> ones, and the C entry's <c>pa__site</c>, <c>pa__tcache</c>, <c>pa__fastpath</c>
/// the core's <c>AllocationSite</c>, <c>ThreadCache</c>, <c>FastPath</c>.
/// </remarks>
[TestFixture]
public sealed class ExportSignatureTests
{
    /// <summary>C record → the C# type the core uses for a pointer to it (element type name), where it is not the generated one.</summary>
    private static readonly Dictionary<string, string> CoreRecords = new()
    {
        ["pa_runtime"] = "Runtime",
        ["pa_type"] = "TypeObject",
        ["pa__site"] = "AllocationSite",
        ["pa__tcache"] = "ThreadCache",
        ["pa__fastpath"] = "FastPath",
    };

    private static HeaderModel? _public, _private;
    private static HeaderModel Public => _public ??= HeaderParser.Parse(TestEnvironment.HeaderPath);
    private static HeaderModel Private => _private ??= HeaderParser.Parse(
        Path.Combine(TestEnvironment.RepoRoot, "native", "entry", "private.h"), TestEnvironment.IncludeDir);

    /// <summary>The export layer's IL assembly, built beside the tests (same configuration first).</summary>
    private static Assembly ExportLayer()
    {
        string bin = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "PyAlloc.Native"));
        string config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;   // bin/PyAlloc.Tests/CONFIG/net10.0/
        string[] candidates = [.. new[] { config, "Release", "Debug" }.Distinct()
            .Select(c => Path.Combine(bin, c, "net10.0", "linux-x64", "libpyalloc.dll")).Where(File.Exists)];
        Assert.That(candidates, Is.Not.Empty, $"no libpyalloc.dll under {bin}: build the library first (./build.sh or cmake --build)");
        return Assembly.LoadFrom(candidates[0]);
    }

    /// <summary>(entry point, method) of every [UnmanagedCallersOnly] method with an entry point.</summary>
    private static Dictionary<string, MethodInfo> Exports()
    {
        var exports = new Dictionary<string, MethodInfo>();
        foreach (Type t in ExportLayer().GetTypes())
            foreach (MethodInfo m in t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
                if (m.GetCustomAttribute<UnmanagedCallersOnlyAttribute>()?.EntryPoint is string entry)
                    exports.Add(entry, m);
        return exports;
    }

    /// <summary>Why <paramref name="net"/> cannot stand for the C type <paramref name="c"/> across the ABI, or null when it can.</summary>
    private static string? Mismatch(CType c, Type net) => c switch
    {
        CType.Named n when BindingTables.Primitives.TryGetValue(n.Name, out string? p) =>
            Name(net) == p ? null : $"{n.Spelling} is {p}",
        CType.Enum e => net == typeof(int) || (net.IsEnum && Enum.GetUnderlyingType(net) == typeof(int)) ? null : $"enum {e.Name} is int or an int enum",
        CType.Pointer { Pointee: CType.Named { Name: "FILE" } } => net == typeof(void*) || net == typeof(nint) ? null : "FILE* is void* or nint",
        CType.Pointer { Pointee: CType.Record { Name: "pa_snapshot" } } => net == typeof(nint) ? null : "pa_snapshot* is a handle, nint",
        CType.Pointer { Pointee: CType.Record r } =>
            net.IsPointer && net.GetElementType()!.Name == (CoreRecords.TryGetValue(r.Name, out string? core) ? core : BindingWriter.Pascal(r.Name))
                ? null : $"{r.Spelling}* is {(CoreRecords.TryGetValue(r.Name, out string? k) ? k : BindingWriter.Pascal(r.Name))}*",
        CType.FunctionPointer =>
            net.IsFunctionPointer || net == typeof(void*) || net == typeof(nint) ? null : "a function pointer is delegate*, void* or nint",
        CType.Pointer { Pointee: CType.FunctionPointer } =>
            net.IsPointer && (net.GetElementType()!.IsFunctionPointer || net.GetElementType() == typeof(void*))
                ? null : "a pointer to a function pointer is delegate*<...>* or void**",
        CType.Pointer ptr => net.IsPointer ? Mismatch(ptr.Pointee, net.GetElementType()!) is string inner ? $"{ptr.Spelling}: {inner}" : null
                                           : $"{ptr.Spelling} is a pointer",
        _ => $"no rule for {c.Spelling}",
    };

    private static string Name(Type t) =>
        t.IsPointer ? Name(t.GetElementType()!) + "*"
        : t == typeof(void) ? "void" : t == typeof(byte) ? "byte" : t == typeof(int) ? "int" : t == typeof(uint) ? "uint"
        : t == typeof(long) ? "long" : t == typeof(ulong) ? "ulong" : t == typeof(nint) ? "nint" : t == typeof(nuint) ? "nuint" : t.Name;

    /// <summary>What differs between <paramref name="f"/> and the export <paramref name="m"/>.</summary>
    private static IEnumerable<string> Problems(CFunction f, MethodInfo m)
    {
        ParameterInfo[] ps = m.GetParameters();
        if (ps.Length != f.Parameters.Count)
        {
            yield return $"{f.Name}: {f.Parameters.Count} parameters in C, {ps.Length} in {m.DeclaringType!.Name}.{m.Name}";
            yield break;
        }
        if (Mismatch(f.Result, m.ReturnType) is string r)
            yield return $"{f.Name} returns {f.Result.Spelling}, {m.DeclaringType!.Name}.{m.Name} {Name(m.ReturnType)}: {r}";
        for (int i = 0; i < ps.Length; i++)
            if (Mismatch(f.Parameters[i].Type, ps[i].ParameterType) is string p)
                yield return $"{f.Name}({f.Parameters[i].Name}): {f.Parameters[i].Type.Spelling} in C, {Name(ps[i].ParameterType)} in {m.DeclaringType!.Name}.{m.Name}: {p}";
    }

    [Test]
    public void EveryPrivateEntryPoint_IsDeclaredOnceInPrivateH_AndExported()
    {
        var exports = Exports();
        var declared = Private.Exports.Select(f => f.Name).Where(n => n.StartsWith("pa__", StringComparison.Ordinal)).ToList();
        var headerOwn = Public.Exports.Select(f => f.Name).ToHashSet();
        var exported = exports.Keys.Where(n => n.StartsWith("pa__", StringComparison.Ordinal) && !headerOwn.Contains(n)).ToList();
        Assert.That(declared, Is.EquivalentTo(exported),
            "native/entry/private.h declares exactly the pa__ exports of src/PyAlloc.Native (those outside include/pyalloc.h)");
    }

    [Test]
    public void EveryExport_HasTheSignatureOfItsCDeclaration()
    {
        var exports = Exports();
        var problems = new List<string>();
        int checkedCount = 0;
        foreach (CFunction f in Public.Exports.Concat(Private.Exports.Where(f => f.Name.StartsWith("pa__", StringComparison.Ordinal))))
        {
            if (!exports.TryGetValue(f.Name, out MethodInfo? m))
                continue; // a C function of native/entry (pa_malloc & co.): compiled against the header itself
            checkedCount++;
            problems.AddRange(Problems(f, m));
        }
        Assert.That(problems, Is.Empty, "exports whose C# signature is not their C declaration's:\n  " + string.Join("\n  ", problems));
        Assert.That(checkedCount, Is.GreaterThan(100), "the C# exports were found and checked");
    }

    [Test]
    public void EveryCSharpExport_IsDeclaredInC()
    {
        var declared = Public.Exports.Concat(Private.Exports).Select(f => f.Name).ToHashSet();
        var undeclared = Exports().Keys.Where(n => !declared.Contains(n)).ToList();
        Assert.That(undeclared, Is.Empty, "C# exports that neither include/pyalloc.h nor native/entry/private.h declares");
    }
}
