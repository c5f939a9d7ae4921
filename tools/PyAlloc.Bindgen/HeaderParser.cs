using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace PyAlloc.Bindgen;

/* ----------------------------------------------------------------------------
   Builds the HeaderModel of include/pyalloc.h with libclang, in two parses:
     1. the header itself, as a C99 translation unit with the preprocessing
        record on: its top-level declarations (functions, structs, enums,
        typedefs) and its macro definitions;
     2. a small C file that includes the header and declares one variable
        per integer-looking macro (`__auto_type pa__value_NAME = (NAME);`),
        so that clang itself evaluates each macro and tells its type.
   Only declarations written in the header count (not those of stdio.h & co.).
   Any error diagnostic fails the parse, with clang's message: a header that
   does not compile, or a missing system header, is never half-read.

   libclang from NuGet has no resource directory (stddef.h, stdint.h's
   builtins): the parse borrows gcc's, `gcc -print-file-name=include`.
---------------------------------------------------------------------------- */
internal static unsafe class HeaderParser
{
    private const int StorageClassStatic = 3;   // CX_SC_Static

    /// <summary>Parses the header at <paramref name="headerPath"/>, finding its includes in <paramref name="includeDirectories"/>.</summary>
    /// <exception cref="InvalidOperationException">The header does not parse cleanly (clang's errors in the message).</exception>
    public static HeaderModel Parse(string headerPath, params string[] includeDirectories)
    {
        string[] includes = [.. includeDirectories.SelectMany(d => new[] { "-I", d })];
        headerPath = Path.GetFullPath(headerPath);
        nint index = Clang.clang_createIndex(0, 0);
        try
        {
            var builder = new ModelBuilder(File.ReadAllBytes(headerPath));
            nint tu = ParseFile(index, headerPath, null, ["-x", "c", "-std=c99", "-fparse-all-comments", .. includes]);
            List<(string Name, string Body)> candidates;
            try
            {
                foreach (CXCursor c in Children(Clang.clang_getTranslationUnitCursor(tu)))
                    if (Clang.clang_Location_isFromMainFile(Clang.clang_getCursorLocation(c)) != 0)
                        builder.Add(c);
                candidates = builder.IntegerMacroCandidates(tu);
            }
            finally
            {
                Clang.clang_disposeTranslationUnit(tu);
            }
            builder.Macros.AddRange(EvaluateMacros(index, headerPath, candidates, includes));
            return builder.Build();
        }
        finally
        {
            Clang.clang_disposeIndex(index);
        }
    }

    /// <summary>gcc's directory of compiler headers (stddef.h, stdarg.h), which NuGet's libclang lacks.</summary>
    private static string CompilerIncludeDirectory()
    {
        var psi = new ProcessStartInfo("gcc", "-print-file-name=include") { RedirectStandardOutput = true, UseShellExecute = false };
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException("cannot run gcc -print-file-name=include");
        string dir = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        if (p.ExitCode != 0 || !File.Exists(Path.Combine(dir, "stddef.h")))
            throw new InvalidOperationException($"gcc -print-file-name=include gave '{dir}', which holds no stddef.h: libclang needs the compiler's own headers");
        return dir;
    }

    /// <summary>Parses <paramref name="path"/> (from <paramref name="contents"/> when given); throws on any error diagnostic.</summary>
    private static nint ParseFile(nint index, string path, string? contents, string[] args)
    {
        string[] all = [.. args, "-I", CompilerIncludeDirectory()];
        byte[][] argBytes = [.. all.Select(a => Encoding.UTF8.GetBytes(a + "\0"))];
        byte[] pathBytes = Encoding.UTF8.GetBytes(path + "\0");
        byte[] contentBytes = Encoding.UTF8.GetBytes((contents ?? "") + "\0");
        var handles = argBytes.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToList();
        try
        {
            byte** argv = stackalloc byte*[all.Length];
            for (int i = 0; i < all.Length; i++)
                argv[i] = (byte*)handles[i].AddrOfPinnedObject();
            nint tu;
            int rc;
            fixed (byte* file = pathBytes)
            fixed (byte* text = contentBytes)
            {
                var unsaved = new CXUnsavedFile { Filename = file, Contents = text, Length = (nuint)(contentBytes.Length - 1) };
                rc = Clang.clang_parseTranslationUnit2(index, file, argv, all.Length, contents == null ? null : &unsaved,
                    contents == null ? 0u : 1u, Clang.DetailedPreprocessingRecord | Clang.SkipFunctionBodies, &tu);
            }
            if (rc != 0)
                throw new InvalidOperationException($"libclang could not parse {path} (CXErrorCode {rc})");
            string errors = ErrorDiagnostics(tu);
            if (errors.Length > 0)
            {
                Clang.clang_disposeTranslationUnit(tu);
                throw new InvalidOperationException($"libclang reports errors in {path}:\n{errors}");
            }
            return tu;
        }
        finally
        {
            foreach (GCHandle h in handles)
                h.Free();
        }
    }

    private static string ErrorDiagnostics(nint tu)
    {
        var sb = new StringBuilder();
        uint n = Clang.clang_getNumDiagnostics(tu);
        for (uint i = 0; i < n; i++)
        {
            nint d = Clang.clang_getDiagnostic(tu, i);
            if (Clang.clang_getDiagnosticSeverity(d) >= Clang.SeverityError)
                sb.Append(Clang.String(Clang.clang_formatDiagnostic(d, Clang.clang_defaultDiagnosticDisplayOptions()))).Append('\n');
            Clang.clang_disposeDiagnostic(d);
        }
        return sb.ToString();
    }

    /// <summary>The macros' values and types, from clang's evaluation of one variable per macro.</summary>
    private static IEnumerable<CMacro> EvaluateMacros(nint index, string headerPath, List<(string Name, string Body)> candidates, string[] includes)
    {
        var source = new StringBuilder();
        source.Append("#include \"").Append(headerPath).Append("\"\n");
        foreach ((string name, _) in candidates)
            source.Append("__auto_type pa__value_").Append(name).Append(" = (").Append(name).Append(");\n");
        string path = Path.Combine(Path.GetDirectoryName(headerPath)!, "pa__macro_values.c");
        nint tu = ParseFile(index, path, source.ToString(), ["-x", "c", "-std=gnu11", .. includes]);
        try
        {
            var bodies = candidates.ToDictionary(c => c.Name, c => c.Body);
            var result = new List<CMacro>();
            foreach (CXCursor c in Children(Clang.clang_getTranslationUnitCursor(tu)))
            {
                string spelling = Clang.Spelling(c);
                if (Clang.clang_getCursorKind(c) != CursorKind.VarDecl || !spelling.StartsWith("pa__value_", StringComparison.Ordinal))
                    continue;
                string name = spelling["pa__value_".Length..];
                string type = Clang.Spelling(Clang.clang_getCanonicalType(Clang.clang_getCursorType(c)));
                nint e = Clang.clang_Cursor_Evaluate(c);
                if (e == 0 || Clang.clang_EvalResult_getKind(e) != Clang.EvalInt)
                    throw new InvalidOperationException($"clang cannot evaluate the macro {name} = {bodies[name]} as an integer");
                bool unsigned = Clang.clang_EvalResult_isUnsignedInt(e) != 0;
                result.Add(new CMacro(name, bodies[name], type, Clang.clang_EvalResult_getAsLongLong(e), Clang.clang_EvalResult_getAsUnsigned(e), unsigned));
                Clang.clang_EvalResult_dispose(e);
            }
            return result;
        }
        finally
        {
            Clang.clang_disposeTranslationUnit(tu);
        }
    }

    /// <summary>The direct children of <paramref name="parent"/>, in order.</summary>
    internal static List<CXCursor> Children(CXCursor parent)
    {
        var list = new List<CXCursor>();
        GCHandle h = GCHandle.Alloc(list);
        try
        {
            Clang.clang_visitChildren(parent, &CollectChild, GCHandle.ToIntPtr(h));
        }
        finally
        {
            h.Free();
        }
        return list;
    }

    [UnmanagedCallersOnly]
    private static int CollectChild(CXCursor cursor, CXCursor parent, nint data)
    {
        ((List<CXCursor>)GCHandle.FromIntPtr(data).Target!).Add(cursor);
        return Clang.ChildVisitContinue;
    }

    /// <summary>Collects the header's declarations cursor by cursor, then builds the model.</summary>
    private sealed class ModelBuilder
    {
        private readonly List<CFunction> _functions = [];
        private readonly List<CStruct> _structs = [];
        private readonly List<string> _declaredRecords = [];
        private readonly List<CEnum> _enums = [];
        private readonly List<CFunctionPointerTypedef> _functionPointers = [];
        private readonly List<CXCursor> _macroCursors = [];
        private readonly byte[] _source;
        private (int LastLine, string? Comment) _previousFunction;

        public ModelBuilder(byte[] source) => _source = source;
        public List<CMacro> Macros { get; } = [];

        public void Add(CXCursor c)
        {
            switch (Clang.clang_getCursorKind(c))
            {
                case CursorKind.FunctionDecl:
                    AddFunction(c);
                    break;
                case CursorKind.StructDecl or CursorKind.UnionDecl:
                    if (Clang.clang_isCursorDefinition(c) != 0)
                        AddStruct(c);
                    else
                        _declaredRecords.Add(Clang.Spelling(c));
                    break;
                case CursorKind.EnumDecl:
                    AddEnum(c);
                    break;
                case CursorKind.TypedefDecl:
                    CType underlying = Resolve(Clang.clang_getTypedefDeclUnderlyingType(c));
                    if (underlying is CType.FunctionPointer fp)
                        _functionPointers.Add(new CFunctionPointerTypedef(Clang.Spelling(c), fp with { TypedefName = Clang.Spelling(c) }));
                    break;
                case CursorKind.MacroDefinition:
                    if (Clang.clang_Cursor_isMacroFunctionLike(c) == 0)
                        _macroCursors.Add(c);
                    break;
            }
        }

        private void AddFunction(CXCursor c)
        {
            string name = Clang.Spelling(c);
            if (_functions.Any(f => f.Name == name))
                return;
            CXType type = Clang.clang_getCursorType(c);
            List<CXCursor> parms = Children(c).Where(p => Clang.clang_getCursorKind(p) == CursorKind.ParmDecl).ToList();
            int n = Clang.clang_getNumArgTypes(type);
            var parameters = new List<CParameter>();
            for (int i = 0; i < n; i++)
                parameters.Add(new CParameter(i < parms.Count ? Clang.Spelling(parms[i]) : $"arg{i}", Decay(Resolve(Clang.clang_getArgType(type, (uint)i)))));
            bool inline = Clang.clang_Cursor_getStorageClass(c) == StorageClassStatic;
            (int first, int last) = Clang.Lines(c);
            // The header documents a group of declarations written on consecutive lines with one comment above the
            // first (pa_tracemalloc_track, pa_tracemalloc_track_at, ...): the others share it.
            string? comment = Comment(c) ?? (_previousFunction.LastLine == first - 1 ? _previousFunction.Comment : null);
            _previousFunction = (last, comment);
            _functions.Add(new CFunction(name, Resolve(Clang.clang_getResultType(type)), parameters, inline, comment));
        }

        private void AddStruct(CXCursor c)
        {
            CXType type = Clang.clang_getCursorType(c);
            var fields = new List<CField>();
            foreach (CXCursor f in Children(c))
                if (Clang.clang_getCursorKind(f) == CursorKind.FieldDecl)
                    fields.Add(new CField(Clang.Spelling(f), Resolve(Clang.clang_getCursorType(f)), Clang.clang_Cursor_getOffsetOfField(f) / 8, TrailingComment(f)));
            _structs.Add(new CStruct(Clang.Spelling(c), Clang.clang_Type_getSizeOf(type), Clang.clang_Type_getAlignOf(type), fields, Comment(c)));
        }

        private void AddEnum(CXCursor c)
        {
            var constants = Children(c).Where(k => Clang.clang_getCursorKind(k) == CursorKind.EnumConstantDecl)
                .Select(k => new CEnumConstant(Clang.Spelling(k), Clang.clang_getEnumConstantDeclValue(k))).ToList();
            _enums.Add(new CEnum(Clang.clang_Cursor_isAnonymous(c) != 0 ? null : Clang.Spelling(c), constants));
        }

        /// <summary>
        /// Object-like macros whose body may be an integer constant expression: not empty (PA_API,
        /// PYALLOC_H), no ';' (PA_OBJECT_HEAD), no __FILE__. Each is then evaluated by clang.
        /// </summary>
        public List<(string Name, string Body)> IntegerMacroCandidates(nint tu)
        {
            var result = new List<(string, string)>();
            foreach (CXCursor c in _macroCursors)
            {
                List<string> tokens = Tokens(tu, c);
                if (tokens.Count < 2 || tokens.Skip(1).Any(t => t is ";" or "__FILE__" or "__LINE__"))
                    continue;
                (int start, int end) = Clang.Offsets(c);
                string text = Encoding.UTF8.GetString(_source, start, end - start);
                result.Add((tokens[0], text[tokens[0].Length..].Trim()));
            }
            return result;
        }

        private static List<string> Tokens(nint tu, CXCursor c)
        {
            CXToken* tokens;
            uint count;
            Clang.clang_tokenize(tu, Clang.clang_getCursorExtent(c), &tokens, &count);
            var list = new List<string>((int)count);
            for (uint i = 0; i < count; i++)
                list.Add(Clang.String(Clang.clang_getTokenSpelling(tu, tokens[i])));
            Clang.clang_disposeTokens(tu, tokens, count);
            return list;
        }

        /// <summary>
        /// The comment that follows a field on its line (<c>size_t pools;   /* pools carved ... */</c>),
        /// which clang does not attach to the field: the header's text from where clang says the field ends.
        /// </summary>
        private string? TrailingComment(CXCursor field)
        {
            int i = Clang.Offsets(field).End;
            while (i < _source.Length && _source[i] is (byte)';' or (byte)' ' or (byte)'\t')
                i++;
            if (i + 1 >= _source.Length || _source[i] != '/' || _source[i + 1] != '*')
                return null;
            string rest = Encoding.UTF8.GetString(_source, i, _source.Length - i);
            int close = rest.IndexOf("*/", StringComparison.Ordinal);
            return close < 0 ? null : rest[..(close + 2)];
        }

        /// <summary>
        /// The comment clang attaches to <paramref name="c"/> (the one right above it), unless it is a section
        /// banner (<c>/* ====...</c>), which is about the section, not the declaration that happens to follow.
        /// </summary>
        private static string? Comment(CXCursor c)
        {
            string text = Clang.String(Clang.clang_Cursor_getRawCommentText(c));
            bool banner = text.TrimStart('/', '*', ' ', '\n').StartsWith("====", StringComparison.Ordinal);
            return text.Length == 0 || banner ? null : text;
        }

        public HeaderModel Build() => new()
        {
            Functions = _functions,
            Structs = _structs,
            OpaqueTypes = _declaredRecords.Distinct().Where(r => _structs.All(s => s.Name != r)).ToList(),
            Enums = _enums,
            FunctionPointerTypes = _functionPointers,
            Macros = Macros,
        };
    }

    /// <summary>A parameter declared as an array (<c>intptr_t out[3]</c>) is a pointer, as C adjusts it.</summary>
    private static CType Decay(CType t) => t is CType.Array a ? new CType.Pointer(a.Element, false, a.Spelling) : t;

    /// <summary>The binding's view of a clang type (see <see cref="CType"/>).</summary>
    internal static CType Resolve(CXType t)
    {
        string spelling = Clang.Spelling(t);
        var kind = (TypeKind)t.Kind;
        switch (kind)
        {
            case TypeKind.Elaborated:
                return Resolve(Clang.clang_Type_getNamedType(t)) switch
                {
                    CType.Named n => n with { Spelling = spelling },
                    CType.Record r => r with { Spelling = spelling },
                    CType.Enum e => e with { Spelling = spelling },
                    CType other => other,
                };
            case TypeKind.Typedef:
            {
                string name = Clang.String(Clang.clang_getTypedefName(t));
                CXType canonical = Clang.clang_getCanonicalType(t);
                if (!name.StartsWith("pa_", StringComparison.Ordinal))
                    return new CType.Named(name, spelling);
                CType inner = Resolve(Clang.clang_getTypedefDeclUnderlyingType(Clang.clang_getTypeDeclaration(t)));
                return inner switch
                {
                    CType.FunctionPointer fp => fp with { TypedefName = name, Spelling = spelling },
                    CType.Record r => r with { Spelling = spelling },
                    CType.Enum e => e with { Spelling = spelling },
                    _ => throw new InvalidOperationException($"typedef {name} of {Clang.Spelling(canonical)}: no mapping"),
                };
            }
            case TypeKind.Pointer:
            {
                CXType pointee = Clang.clang_getPointeeType(t);
                CType inner = Resolve(pointee);
                if (inner is CType.FunctionPointer { Spelling: "" } proto)
                    return proto with { Spelling = spelling };
                return new CType.Pointer(inner, Clang.clang_isConstQualifiedType(pointee) != 0, spelling);
            }
            case TypeKind.FunctionProto:
            {
                int n = Clang.clang_getNumArgTypes(t);
                var ps = Enumerable.Range(0, n).Select(i => Decay(Resolve(Clang.clang_getArgType(t, (uint)i)))).ToList();
                return new CType.FunctionPointer(null, Resolve(Clang.clang_getResultType(t)), ps, "");
            }
            case TypeKind.Record:
                return new CType.Record(Clang.Spelling(Clang.clang_getTypeDeclaration(t)), spelling);
            case TypeKind.Enum:
                return new CType.Enum(Clang.Spelling(Clang.clang_getTypeDeclaration(t)), spelling);
            case TypeKind.ConstantArray:
                return new CType.Array(Resolve(Clang.clang_getArrayElementType(t)), Clang.clang_getArraySize(t), spelling);
            default:
                string bare = spelling.StartsWith("const ", StringComparison.Ordinal) ? spelling["const ".Length..] : spelling;
                return new CType.Named(bare, spelling);
        }
    }
}
