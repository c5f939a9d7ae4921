using System;

namespace PyAlloc.Core;

/// <summary>The library version; keep in step with PA_VERSION_* in include/pyalloc.h.</summary>
public static class Version
{
    /// <summary>PA_VERSION_MAJOR.</summary>
    public const int Major = 0;
    /// <summary>PA_VERSION_MINOR.</summary>
    public const int Minor = 1;
    /// <summary>PA_VERSION_PATCH.</summary>
    public const int Patch = 0;

    /// <summary>"MAJOR.MINOR.PATCH", NUL-terminated in the image (UTF-8 literals are).</summary>
    public static ReadOnlySpan<byte> Utf8 => "0.1.0"u8;
}
