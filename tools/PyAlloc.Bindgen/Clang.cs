using System;
using System.Runtime.InteropServices;

namespace PyAlloc.Bindgen;

/* ----------------------------------------------------------------------------
   The part of libclang's C API (clang-c/Index.h, libclang 23) the generator
   uses, declared by hand.  The NuGet packages libclang and
   libclang.runtime.linux-x64 bring libclang.so; nothing else of LLVM is needed.

   Data structures: libclang passes small structs by value.  Their layouts on
   64-bit Linux, as Index.h defines them:
     CXCursor          { int kind; int xdata; const void *data[3]; }   32 bytes
     CXType            { int kind; void *data[2]; }                    24 bytes
     CXString          { const void *data; unsigned private_flags; }   16 bytes
     CXSourceLocation  { const void *ptr_data[2]; unsigned int_data; } 24 bytes
     CXSourceRange     { const void *ptr_data[2]; unsigned begin, end; } 24 bytes
     CXToken           { unsigned int_data[4]; void *ptr_data; }       24 bytes
   A CXString is disposed by the caller (clang_disposeString); String() below
   copies it into a .NET string and disposes it.
---------------------------------------------------------------------------- */

[StructLayout(LayoutKind.Sequential)]
internal struct CXCursor
{
    public int Kind;
    public int XData;
    public nint Data0, Data1, Data2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXType
{
    public int Kind;
    public nint Data0, Data1;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXString
{
    public nint Data;
    public uint PrivateFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceLocation
{
    public nint Ptr0, Ptr1;
    public uint IntData;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceRange
{
    public nint Ptr0, Ptr1;
    public uint Begin, End;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXToken
{
    public uint Int0, Int1, Int2, Int3;
    public nint Ptr;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CXUnsavedFile
{
    public byte* Filename;
    public byte* Contents;
    public nuint Length;
}

/// <summary>The cursor kinds (CXCursorKind) the generator looks at.</summary>
internal enum CursorKind
{
    StructDecl = 2,
    UnionDecl = 3,
    EnumDecl = 5,
    FieldDecl = 6,
    EnumConstantDecl = 7,
    FunctionDecl = 8,
    VarDecl = 9,
    ParmDecl = 10,
    TypedefDecl = 20,
    MacroDefinition = 501,
}

/// <summary>The type kinds (CXTypeKind) the generator maps.</summary>
internal enum TypeKind
{
    Void = 2,
    Bool = 3,
    CharU = 4,
    UChar = 5,
    UShort = 8,
    UInt = 9,
    ULong = 10,
    ULongLong = 11,
    CharS = 13,
    SChar = 14,
    Short = 16,
    Int = 17,
    Long = 18,
    LongLong = 19,
    Pointer = 101,
    Record = 105,
    Enum = 106,
    Typedef = 107,
    FunctionProto = 111,
    ConstantArray = 112,
    Elaborated = 119,
}

internal static unsafe partial class Clang
{
    private const string Lib = "libclang";

    public const uint DetailedPreprocessingRecord = 0x01;
    public const uint SkipFunctionBodies = 0x40;
    public const int ChildVisitBreak = 0, ChildVisitContinue = 1, ChildVisitRecurse = 2;
    public const int SeverityError = 3;
    public const int EvalInt = 1;

    [LibraryImport(Lib)] public static partial CXString clang_getClangVersion();
    [LibraryImport(Lib)] public static partial nint clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);
    [LibraryImport(Lib)] public static partial void clang_disposeIndex(nint index);
    [LibraryImport(Lib)]
    public static partial int clang_parseTranslationUnit2(nint index, byte* sourceFilename, byte** args, int numArgs,
        CXUnsavedFile* unsaved, uint numUnsaved, uint options, nint* tu);
    [LibraryImport(Lib)] public static partial void clang_disposeTranslationUnit(nint tu);
    [LibraryImport(Lib)] public static partial uint clang_getNumDiagnostics(nint tu);
    [LibraryImport(Lib)] public static partial nint clang_getDiagnostic(nint tu, uint index);
    [LibraryImport(Lib)] public static partial int clang_getDiagnosticSeverity(nint diagnostic);
    [LibraryImport(Lib)] public static partial CXString clang_formatDiagnostic(nint diagnostic, uint options);
    [LibraryImport(Lib)] public static partial uint clang_defaultDiagnosticDisplayOptions();
    [LibraryImport(Lib)] public static partial void clang_disposeDiagnostic(nint diagnostic);

    [LibraryImport(Lib)] public static partial CXCursor clang_getTranslationUnitCursor(nint tu);
    [LibraryImport(Lib)]
    public static partial uint clang_visitChildren(CXCursor parent, delegate* unmanaged<CXCursor, CXCursor, nint, int> visitor, nint data);
    [LibraryImport(Lib)] public static partial CursorKind clang_getCursorKind(CXCursor c);
    [LibraryImport(Lib)] public static partial CXString clang_getCursorSpelling(CXCursor c);
    [LibraryImport(Lib)] public static partial CXType clang_getCursorType(CXCursor c);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getCursorLocation(CXCursor c);
    [LibraryImport(Lib)] public static partial CXSourceRange clang_getCursorExtent(CXCursor c);
    [LibraryImport(Lib)] public static partial int clang_Location_isFromMainFile(CXSourceLocation l);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isMacroFunctionLike(CXCursor c);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isAnonymous(CXCursor c);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isFunctionInlined(CXCursor c);
    [LibraryImport(Lib)] public static partial uint clang_isCursorDefinition(CXCursor c);
    [LibraryImport(Lib)] public static partial int clang_Cursor_getStorageClass(CXCursor c);
    [LibraryImport(Lib)] public static partial long clang_Cursor_getOffsetOfField(CXCursor c);
    [LibraryImport(Lib)] public static partial CXString clang_Cursor_getRawCommentText(CXCursor c);
    [LibraryImport(Lib)] public static partial long clang_getEnumConstantDeclValue(CXCursor c);
    [LibraryImport(Lib)] public static partial CXType clang_getEnumDeclIntegerType(CXCursor c);
    [LibraryImport(Lib)] public static partial CXType clang_getTypedefDeclUnderlyingType(CXCursor c);
    [LibraryImport(Lib)] public static partial CXCursor clang_getTypeDeclaration(CXType t);

    [LibraryImport(Lib)] public static partial CXString clang_getTypeSpelling(CXType t);
    [LibraryImport(Lib)] public static partial CXString clang_getTypedefName(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_getCanonicalType(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_getPointeeType(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_Type_getNamedType(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_getResultType(CXType t);
    [LibraryImport(Lib)] public static partial int clang_getNumArgTypes(CXType t);
    [LibraryImport(Lib)] public static partial CXType clang_getArgType(CXType t, uint i);
    [LibraryImport(Lib)] public static partial CXType clang_getArrayElementType(CXType t);
    [LibraryImport(Lib)] public static partial long clang_getArraySize(CXType t);
    [LibraryImport(Lib)] public static partial long clang_Type_getSizeOf(CXType t);
    [LibraryImport(Lib)] public static partial long clang_Type_getAlignOf(CXType t);
    [LibraryImport(Lib)] public static partial uint clang_isConstQualifiedType(CXType t);

    [LibraryImport(Lib)] public static partial nint clang_Cursor_Evaluate(CXCursor c);
    [LibraryImport(Lib)] public static partial int clang_EvalResult_getKind(nint e);
    [LibraryImport(Lib)] public static partial uint clang_EvalResult_isUnsignedInt(nint e);
    [LibraryImport(Lib)] public static partial ulong clang_EvalResult_getAsUnsigned(nint e);
    [LibraryImport(Lib)] public static partial long clang_EvalResult_getAsLongLong(nint e);
    [LibraryImport(Lib)] public static partial void clang_EvalResult_dispose(nint e);

    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getRangeStart(CXSourceRange r);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getRangeEnd(CXSourceRange r);
    [LibraryImport(Lib)] public static partial void clang_getSpellingLocation(CXSourceLocation l, nint* file, uint* line, uint* column, uint* offset);
    [LibraryImport(Lib)] public static partial nint clang_Cursor_getTranslationUnit(CXCursor c);
    [LibraryImport(Lib)] public static partial void clang_tokenize(nint tu, CXSourceRange range, CXToken** tokens, uint* count);
    [LibraryImport(Lib)] public static partial CXString clang_getTokenSpelling(nint tu, CXToken token);
    [LibraryImport(Lib)] public static partial void clang_disposeTokens(nint tu, CXToken* tokens, uint count);

    [LibraryImport(Lib)] private static partial byte* clang_getCString(CXString s);
    [LibraryImport(Lib)] private static partial void clang_disposeString(CXString s);

    /// <summary>The text of <paramref name="s"/>, which is disposed; "" for a null string.</summary>
    public static string String(CXString s)
    {
        byte* p = clang_getCString(s);
        string text = p == null ? "" : Marshal.PtrToStringUTF8((nint)p) ?? "";
        clang_disposeString(s);
        return text;
    }

    /// <summary>The byte offsets in its file of where <paramref name="c"/> starts and ends.</summary>
    public static (int Start, int End) Offsets(CXCursor c)
    {
        CXSourceRange r = clang_getCursorExtent(c);
        uint start, end;
        clang_getSpellingLocation(clang_getRangeStart(r), null, null, null, &start);
        clang_getSpellingLocation(clang_getRangeEnd(r), null, null, null, &end);
        return ((int)start, (int)end);
    }

    /// <summary>The lines (1-based) of its file on which <paramref name="c"/> starts and ends.</summary>
    public static (int First, int Last) Lines(CXCursor c)
    {
        CXSourceRange r = clang_getCursorExtent(c);
        uint first, last;
        clang_getSpellingLocation(clang_getRangeStart(r), null, &first, null, null);
        clang_getSpellingLocation(clang_getRangeEnd(r), null, &last, null, null);
        return ((int)first, (int)last);
    }

    public static string Spelling(CXCursor c) => String(clang_getCursorSpelling(c));
    public static string Spelling(CXType t) => String(clang_getTypeSpelling(t));
}
