using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Tour;

/// <summary>
/// The .NET tour (native/tour-dotnet, <c>./build.sh tour --dotnet</c>) and the README's .NET example:
/// each is built with <c>dotnet build</c> and run as a child process with PYALLOC_LIBRARY set.
/// </summary>
[TestFixture]
public sealed class DotnetTourTests
{
    private static (int ExitCode, string Stdout, string Stderr) Run(string file, string? workDir, params string[] arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (string a in arguments)
            info.ArgumentList.Add(a);
        // the test host's MSBuild variables must not leak into a child build
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(key);
        info.Environment["PYALLOC_LIBRARY"] = Path.GetFullPath(TestEnvironment.NativeLibraryPath);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    private static void Build(string project, string outDir)
    {
        var (code, stdout, stderr) = Run("dotnet", null, "build", project, "-c", "Release", "-o", outDir,
            "--nologo", "-v", "q", "-nodeReuse:false");
        Assert.That(code, Is.Zero, $"dotnet build {project} failed:\n{stdout}\n{stderr}");
    }

    [Test]
    public void TheDotnetTourRunsAndPrintsTheArticlesKeyLines()
    {
        string outDir = TestEnvironment.NewScratchDirectory();
        try
        {
            Build(Path.Combine(TestEnvironment.RepoRoot, "native", "tour-dotnet", "PyAlloc.Tour.csproj"), outDir);
            var (code, stdout, stderr) = Run("dotnet", outDir, Path.Combine(outDir, "PyAlloc.Tour.dll"));
            Assert.That(code, Is.Zero, $"the .NET tour exited with {code}:\n{stderr}\n{stdout}");
            string[] expected =
            {
                "=== Part 1: Reference Counting ===",
                "After creation: 1", "After b = a: 2", "After c = a: 3", "After del b: 2", "After del c: 1",
                "ref count of a: 2", "ref count of b: 2", "Collected 2 unreachable objects",
                "root: ref count 2", "leaf: ref count 2",
                "del root, leaf -> Collected 4 unreachable objects",
                "=== Part 3: The Cyclic Garbage Collector ===", "True", "(0, 0, 0)",
                "(700, 10, 10)",
                "after collect(0):      total 100: generation 0: 0, generation 1: 100, generation 2: 0",
                "after collect(1):      total 100: generation 0: 0, generation 1: 0, generation 2: 100",
                "Created: database_connection", "Freed: database_connection",
                "Collected 3 unreachable objects",
                "... and phoenix's finaliser stored it in a global: resurrected",
                "still alive after del: ref count 1, finalized: True",
                "call 3: Objects before: 41, Objects after: 61, Difference: 20",
                "gc.disable() ... gc.enable(): 0 collections during the phase",
                "child.get_parent() is parent: True",
                "del parent -> child.get_parent(): None",
                "gc.freeze() -> gc.get_freeze_count(): 1002, tracked in generations 0-2: 0",
                "End of the tour.",
            };
            foreach (string line in expected)
                Assert.That(stdout, Does.Contain(line), $"the .NET tour's output lacks \"{line}\":\n{stdout}");
            // tracemalloc's top line: the C# line that made 1000 blocks of 8000 bytes plus their array
            Assert.That(stdout, Does.Match(@"Program\.cs:\d+: size=78\d\d KiB, count=1001, average="), stdout);
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    /// <summary>Every ```csharp block of README.md compiles and runs as shown.</summary>
    [Test]
    public void TheReadmesDotnetExamplesBuildAndRun()
    {
        string readme = File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "README.md"));
        MatchCollection blocks = new Regex(@"```csharp\n(.*?)```", RegexOptions.Singleline).Matches(readme);
        Assert.That(blocks, Is.Not.Empty, "no ```csharp block in README.md");
        for (int i = 0; i < blocks.Count; i++)
        {
            var (code, stdout, stderr) = BuildAndRun(blocks[i].Groups[1].Value);
            Assert.That(code, Is.Zero, $"the README's C# example #{i + 1} exited with {code}:\n{stderr}\n{stdout}");
            string source = blocks[i].Groups[1].Value;
            if (source.Contains("PyBuffer.Allocate(100)"))
            {
                Assert.That(stdout, Does.Contain("100 bytes"), stdout);
                Assert.That(stdout, Does.Contain("bytes in use"), stdout);
            }
            if (source.Contains("PyObjectRef.Assign(ref"))
                Assert.That(stdout, Does.Contain("collected 2"), "the quick start: " + stdout);
        }
    }

    private static (int Code, string Stdout, string Stderr) BuildAndRun(string program)
    {
        string dir = TestEnvironment.NewScratchDirectory();
        try
        {
            string binding = Path.Combine(TestEnvironment.RepoRoot, "src", "PyAlloc", "PyAlloc.csproj");
            File.WriteAllText(Path.Combine(dir, "ReadmeExample.csproj"),
                "<Project Sdk=\"Microsoft.NET.Sdk\">\n" +
                "  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework>\n" +
                "    <ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable><AllowUnsafeBlocks>true</AllowUnsafeBlocks>\n" +
                "  </PropertyGroup>\n" +
                $"  <ItemGroup><ProjectReference Include=\"{binding}\" /></ItemGroup>\n" +
                "</Project>\n");
            File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
            string outDir = Path.Combine(dir, "out");
            Build(Path.Combine(dir, "ReadmeExample.csproj"), outDir);
            return Run("dotnet", outDir, Path.Combine(outDir, "ReadmeExample.dll"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
