using System.Diagnostics;
using NUnit.Framework;

namespace PyAlloc.Tests.Support;

/// <summary>Runs a tool and returns what it printed.</summary>
internal static class Processes
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/>; fails the test unless it exits with 0.</summary>
    public static string Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments)
            info.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"cannot run {file}: {e.Message} (./build.sh installs the tools the tests need)");
            throw;
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero,
                $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{stderr.Result}");
            return stdout;
        }
    }

    /// <summary>
    /// Runs this test assembly as a program (<c>dotnet PyAlloc.Tests.dll VERB SCENARIO</c>, see <c>Program</c>) and
    /// waits for it (two minutes at most), with <paramref name="environment"/> added to this process's.
    /// </summary>
    /// <returns>Its exit code, standard output and standard error.</returns>
    public static (int ExitCode, string Stdout, string Stderr) RunTestChild(string verb, string scenario,
                                                                           params (string Name, string Value)[] environment)
    {
        string dotnet = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(Processes).Assembly.Location);
        info.ArgumentList.Add(verb);
        info.ArgumentList.Add(scenario);
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        using Process process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(120_000), Is.True, "the child did not finish");
        return (process.ExitCode, stdout, stderr.Result);
    }
}
