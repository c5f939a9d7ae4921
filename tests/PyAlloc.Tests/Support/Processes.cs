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
}
