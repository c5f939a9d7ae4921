using System;
using System.IO;
using System.Linq;
using System.Reflection;
using NUnit.Framework;

namespace PyAlloc.Tests.Support;

/// <summary>Where the tests find the source tree and the library under test.</summary>
internal static class TestEnvironment
{
    /// <summary>The repository root, recorded at build time (see the csproj).</summary>
    public static string RepoRoot
    {
        get
        {
            string? root = typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "PyAllocRepoRoot")?.Value;
            Assert.That(root, Is.Not.Null.And.Not.Empty, "the test assembly has no PyAllocRepoRoot metadata");
            return root!;
        }
    }

    /// <summary>include/pyalloc.h.</summary>
    public static string HeaderPath => Path.Combine(RepoRoot, "include", "pyalloc.h");

    /// <summary>The include directory.</summary>
    public static string IncludeDir => Path.Combine(RepoRoot, "include");

    /// <summary>
    /// The libpyalloc.so the binding loads: $PYALLOC_LIBRARY when set, else the copy next to the tests.
    /// </summary>
    public static string NativeLibraryPath
    {
        get
        {
            string? path = Environment.GetEnvironmentVariable(NativeMethods.LibraryPathVariable);
            return string.IsNullOrEmpty(path) ? Path.Combine(AppContext.BaseDirectory, "libpyalloc.so") : path;
        }
    }

    /// <summary>A fresh scratch directory under the test output, removed by the caller.</summary>
    public static string NewScratchDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "pyalloc-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
