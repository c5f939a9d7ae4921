using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace PyAlloc.Bindgen;

/* ----------------------------------------------------------------------------
   The model of include/pyalloc.h: what the C compiler sees, as libclang
   reports it (HeaderParser.cs builds it).  Nothing here is guessed from the
   text: sizes, alignments and offsets are clang's for x86-64 Linux, values of
   macros and enum constants are clang's evaluation.

   Data structures
     CType      a C type, resolved to what the binding needs: a primitive or a
                standard typedef by name (int, size_t, FILE), a pointer (with
                the constness of what it points to), a struct or opaque type of
                the header, an enum of the header, a function pointer (named
                when it is one of the header's typedefs), a fixed-size array.
     CFunction  a function: exported (PA_API) or static inline.
     CStruct    a struct with its size, alignment and fields (offset, type).
     CEnum      an enum (Name null when anonymous) and its constants.
     CMacro     an object-like #define whose body is an integer constant
                expression, with clang's value and type.
     HeaderModel  all of them, in the order of the header.
---------------------------------------------------------------------------- */

/// <summary>A C type as the binding sees it. <see cref="Spelling"/> is clang's spelling.</summary>
internal abstract record CType(string Spelling)
{
    /// <summary>A builtin type or a typedef from outside the header (size_t, intptr_t, FILE ...), by name, const dropped.</summary>
    public sealed record Named(string Name, string Spelling) : CType(Spelling);
    /// <summary>A pointer; <see cref="ConstPointee"/> when what it points to is const.</summary>
    public sealed record Pointer(CType Pointee, bool ConstPointee, string Spelling) : CType(Spelling);
    /// <summary>A struct of the header, opaque or not, by its C name (tag = typedef name).</summary>
    public sealed record Record(string Name, string Spelling) : CType(Spelling);
    /// <summary>An enum of the header, by its C name.</summary>
    public sealed record Enum(string Name, string Spelling) : CType(Spelling);
    /// <summary>A pointer to a function; <see cref="TypedefName"/> when it is one of the header's typedefs.</summary>
    public sealed record FunctionPointer(string? TypedefName, CType Result, IReadOnlyList<CType> Parameters, string Spelling) : CType(Spelling);
    /// <summary>A fixed-size array (struct fields only: parameters decay to pointers).</summary>
    public sealed record Array(CType Element, long Length, string Spelling) : CType(Spelling);
}

internal sealed record CParameter(string Name, CType Type);

internal sealed record CFunction(string Name, CType Result, IReadOnlyList<CParameter> Parameters, bool IsInline, string? Comment)
{
    public override string ToString() =>
        $"{Result.Spelling} {Name}({(Parameters.Count == 0 ? "void" : string.Join(", ", Parameters.Select(p => $"{p.Type.Spelling} {p.Name}")))})";
}

internal sealed record CField(string Name, CType Type, long Offset, string? Comment);

internal sealed record CStruct(string Name, long Size, long Alignment, IReadOnlyList<CField> Fields, string? Comment);

internal sealed record CEnumConstant(string Name, long Value);

internal sealed record CEnum(string? Name, IReadOnlyList<CEnumConstant> Constants);

/// <summary>An integer #define: <see cref="CTypeName"/> is the canonical C type of its value (int, unsigned int, unsigned long).</summary>
internal sealed record CMacro(string Name, string Body, string CTypeName, long Value, ulong UnsignedValue, bool IsUnsigned);

internal sealed record CFunctionPointerTypedef(string Name, CType.FunctionPointer Type);

/// <summary>Everything of include/pyalloc.h the binding needs, in the header's order.</summary>
internal sealed class HeaderModel
{
    public required IReadOnlyList<CFunction> Functions { get; init; }
    public required IReadOnlyList<CStruct> Structs { get; init; }
    public required IReadOnlyList<string> OpaqueTypes { get; init; }
    public required IReadOnlyList<CEnum> Enums { get; init; }
    public required IReadOnlyList<CFunctionPointerTypedef> FunctionPointerTypes { get; init; }
    public required IReadOnlyList<CMacro> Macros { get; init; }

    /// <summary>The exported functions (PA_API), not the static inline ones.</summary>
    public IEnumerable<CFunction> Exports => Functions.Where(f => !f.IsInline);

    public CStruct Struct(string name) =>
        Structs.FirstOrDefault(s => s.Name == name) ?? throw new KeyNotFoundException($"no struct {name} in the header");

    /// <summary>The model as text, one fact a line, for reading and diffing (<c>PyAlloc.Bindgen dump</c>).</summary>
    public string Dump()
    {
        var sb = new StringBuilder();
        foreach (CMacro m in Macros)
            sb.Append("#define ").Append(m.Name).Append(" = ").Append(m.IsUnsigned ? m.UnsignedValue.ToString() : m.Value.ToString())
              .Append(" (").Append(m.CTypeName).Append(")   // ").Append(m.Body).Append('\n');
        foreach (string o in OpaqueTypes)
            sb.Append("opaque ").Append(o).Append('\n');
        foreach (CEnum e in Enums)
        {
            sb.Append("enum ").Append(e.Name ?? "(anonymous)").Append('\n');
            foreach (CEnumConstant c in e.Constants)
                sb.Append("    ").Append(c.Name).Append(" = ").Append(c.Value).Append('\n');
        }
        foreach (CFunctionPointerTypedef f in FunctionPointerTypes)
            sb.Append("typedef ").Append(f.Name).Append(" = ").Append(f.Type.Spelling).Append('\n');
        foreach (CStruct s in Structs)
        {
            sb.Append("struct ").Append(s.Name).Append(" size ").Append(s.Size).Append(" align ").Append(s.Alignment).Append('\n');
            foreach (CField f in s.Fields)
                sb.Append("    +").Append(f.Offset).Append(' ').Append(f.Type.Spelling).Append(' ').Append(f.Name).Append('\n');
        }
        foreach (CFunction f in Functions)
            sb.Append(f.IsInline ? "inline " : "export ").Append(f).Append('\n');
        return sb.ToString();
    }
}
