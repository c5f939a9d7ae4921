using System;
using System.IO;

namespace PyAlloc.Bindgen;

/// <summary>
/// <c>dotnet run --project tools/PyAlloc.Bindgen -- COMMAND [HEADER]</c>:
/// <c>dump</c> prints the model of the header (functions, structs with offsets, enums, macros);
/// <c>generate</c> writes the binding (NativeMethods.g.cs) and the header's types (src/PyAlloc.Abi/HeaderTypes.g.cs) in the source tree;
/// <c>check</c> exits 1 when a checked-in file is not what generate would write.
/// HEADER defaults to include/pyalloc.h of the repository the tool sits in.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length is < 1 or > 2 || args[0] is not ("dump" or "generate" or "check"))
        {
            Console.Error.WriteLine("usage: PyAlloc.Bindgen dump|generate|check [include/pyalloc.h]");
            return 2;
        }
        try
        {
            string root = RepoRoot();
            string header = args.Length == 2 ? args[1] : Path.Combine(root, "include", "pyalloc.h");
            HeaderModel model = HeaderParser.Parse(header);
            if (args[0] == "dump")
            {
                Console.Write(model.Dump());
                return 0;
            }
            bool allFresh = true;
            foreach ((string relative, string text) in BindingWriter.Files(model))
            {
                string target = Path.Combine(root, relative);
                bool fresh = File.Exists(target) && File.ReadAllText(target) == text;
                allFresh &= fresh;
                if (args[0] == "generate")
                {
                    if (!fresh)
                    {
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        File.WriteAllText(target, text);
                    }
                    Console.WriteLine((fresh ? "unchanged: " : "wrote ") + relative);
                }
                else if (!fresh)
                    Console.Error.WriteLine($"{relative} is stale: run dotnet run --project tools/PyAlloc.Bindgen -- generate");
            }
            return args[0] == "generate" || allFresh ? 0 : 1;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine("PyAlloc.Bindgen: " + e.Message);
            return 1;
        }
    }

    /// <summary>The repository root: the first directory upwards from the tool that holds include/pyalloc.h.</summary>
    private static string RepoRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "include", "pyalloc.h")))
                return d.FullName;
        throw new InvalidOperationException("no include/pyalloc.h above " + AppContext.BaseDirectory);
    }
}
