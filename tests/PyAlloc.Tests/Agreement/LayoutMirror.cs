using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Agreement;

/// <summary>
/// Compares the C mirror of some core structures (a header of native/entry) with the C#
/// structs: gcc prints each field's offset and each constant, and every difference is a problem.
/// </summary>
internal static class LayoutMirror
{
    /// <summary>One field both sides read: (C struct, C field, C# type, C# field name).</summary>
    public readonly record struct Field(string CStruct, string CField, Type Type, string Name);

    /// <summary>One constant both sides use: its C expression and the core's value.</summary>
    public readonly record struct Constant(string CExpression, long Core);

    /// <summary>The differences between <paramref name="header"/> (in native/entry) and the core.</summary>
    public static List<string> Problems(string header, Field[] fields, Constant[] constants)
    {
        var source = new StringBuilder($"#include <stddef.h>\n#include <stdio.h>\n#include \"{header}\"\nint main(void)\n{{\n");
        foreach (var f in fields)
            source.Append($"    printf(\"{f.CStruct} {f.CField} %zu\\n\", offsetof({f.CStruct}, {f.CField}));\n");
        foreach (var c in constants)
            source.Append($"    printf(\"{c.CExpression} {c.Core} %ld\\n\", (long)({c.CExpression}));\n");
        source.Append("    return 0;\n}\n");

        string dir = TestEnvironment.NewScratchDirectory();
        string output;
        try
        {
            string c = Path.Combine(dir, "mirror.c"), exe = Path.Combine(dir, "mirror");
            File.WriteAllText(c, source.ToString());
            string entryDir = Path.Combine(TestEnvironment.RepoRoot, "native", "entry");
            string includeDir = Path.Combine(TestEnvironment.RepoRoot, "include");
            Processes.Run("gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", entryDir, "-I", includeDir, c, "-o", exe);
            output = Processes.Run(exe);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var problems = new List<string>();
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length != fields.Length + constants.Length)
        {
            problems.Add($"{lines.Length} lines printed, expected {fields.Length + constants.Length}:\n{output}");
            return problems;
        }
        for (int i = 0; i < fields.Length; i++)
        {
            var f = fields[i];
            long gcc = long.Parse(lines[i].Split(' ')[2]);
            long net = (long)Marshal.OffsetOf(f.Type, f.Name);
            if (gcc != net)
                problems.Add($"{f.CStruct}.{f.CField} at {gcc}, {f.Type.Name}.{f.Name} at {net}");
        }
        foreach (string line in lines[fields.Length..])
        {
            Match match = Regex.Match(line, @"^(.+) (-?\d+) (-?\d+)$");
            if (!match.Success || match.Groups[2].Value != match.Groups[3].Value)
                problems.Add($"constant: {line} (expression, core, C)");
        }
        return problems;
    }
}
