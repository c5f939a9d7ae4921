using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Agreement;

/* ============================================================================
   The core's layers

   src/PyAlloc.Core has one folder per concern, and the folder is the
   namespace (PyAlloc.Core.<Folder>).  The folders form layers: a folder may
   name only the folders of the layers below it, so the import graph has no
   cycle and each folder can be read (and tested) knowing only what is under
   it.  Where a lower layer must still reach code above it (the debug hooks
   from pymalloc's slow paths, the collector from an allocation that makes a
   collection due), it calls through a slot of its own that Api/Wiring.cs
   fills when the library loads.

   A reference is anything that names another folder's namespace:
     using PyAlloc.Core.X;   using static PyAlloc.Core.X.T;
     using A = PyAlloc.Core.X.T;   PyAlloc.Core.X.T (also after global::)
     X.T, inside the core (a name the enclosing PyAlloc.Core namespace resolves),
   read with comments, strings and characters blanked out.
============================================================================ */

/// <summary>
/// The core's folders are layers (<see cref="Layers"/>): each file's namespace is its folder, and
/// a folder names only folders below it, so the graph of folder references has no cycle.
/// </summary>
[TestFixture]
public sealed class CoreLayeringTests
{
    /// <summary>The layers, bottom first: the one place the order is written.</summary>
    internal static readonly (string Folder, string Holds)[] Layers =
    [
        ("Platform", "the OS and the C library: memory mapping, files and file names, stderr, child processes"),
        ("Support", "errors, fatal errors, locks, the open-addressing tables, probes"),
        ("Allocator", "pymalloc: size classes, arenas, pools, heaps, large blocks, thread caches, the modes"),
        ("Tracing", "tracemalloc: traces, tracebacks, snapshots and their files, symbols"),
        ("Objects", "objects, types, runtimes, lists, weak references, GC heads, their lists and gc state"),
        ("Gc", "the cycle collector and the gc module's calls"),
        ("Debugging", "CPython's debug hooks over pools and objects (PYALLOC_MALLOC=debug, pa_mem_setup_debug_hooks)"),
        ("Api", "what one public call runs across layers (traced allocation), fork safety, the wiring of upcalls"),
    ];

    private static string CoreDir => Path.Combine(TestEnvironment.RepoRoot, "src", "PyAlloc.Core");

    /// <summary>One reference of a file to another folder's namespace.</summary>
    private readonly record struct Reference(string From, string To, string File, int Line, string Text);

    [Test]
    public void EveryFolderIsALayer_AndEveryLayerAFolder()
    {
        string[] folders = CoreFolders();
        Assert.That(folders, Is.EquivalentTo(Layers.Select(l => l.Folder)),
            "the folders of src/PyAlloc.Core and CoreLayeringTests.Layers must be the same set: " +
            "a new folder gets its line (and place) in the list");
    }

    [Test]
    public void EachFilesNamespace_IsItsFolder()
    {
        var wrong = new List<string>();
        foreach (string file in CoreFiles())
        {
            string folder = FolderOf(file);
            string text = File.ReadAllText(file);
            MatchCollection namespaces = Regex.Matches(text, @"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline);
            if (namespaces.Count != 1 || namespaces[0].Groups[1].Value != "PyAlloc.Core." + folder)
                wrong.Add($"{Relative(file)}: namespace " +
                          (namespaces.Count == 0 ? "(none)" : string.Join(", ", namespaces.Select(m => m.Groups[1].Value))) +
                          $", expected PyAlloc.Core.{folder}");
        }
        Assert.That(wrong, Is.Empty, string.Join("\n", wrong));
    }

    [Test]
    public void TheFolderGraph_HasNoCycle()
    {
        List<Reference> references = References();
        Dictionary<string, SortedSet<string>> graph = Graph(references);
        List<string>? cycle = FindCycle(graph);
        if (cycle != null)
        {
            var why = new StringBuilder($"the core's folders form a cycle: {string.Join(" -> ", cycle)}\n");
            for (int i = 0; i + 1 < cycle.Count; i++)
            {
                Reference r = references.First(x => x.From == cycle[i] && x.To == cycle[i + 1]);
                why.Append($"  {r.From} -> {r.To}: {r.File}:{r.Line}: {r.Text}\n");
            }
            Assert.Fail(why.ToString());
        }
        TestContext.Out.WriteLine(Describe(graph));
    }

    [Test]
    public void EachFolder_NamesOnlyTheLayersBelowIt()
    {
        var rank = Layers.Select((l, i) => (l.Folder, i)).ToDictionary(x => x.Folder, x => x.i);
        var upward = References()
            .Where(r => rank.ContainsKey(r.From) && rank.ContainsKey(r.To) && rank[r.To] >= rank[r.From])
            .Select(r => $"{r.File}:{r.Line}: {r.From} (layer {rank[r.From]}) names {r.To} (layer {rank[r.To]}): {r.Text}")
            .ToList();
        Assert.That(upward, Is.Empty,
            "a folder may name only the folders below it in CoreLayeringTests.Layers (move the code to where it " +
            "belongs, or call up through a slot that Api/Wiring.cs fills):\n" + string.Join("\n", upward));
    }

    /// <summary>The finder sees every kind of reference the file comment lists, and nothing in comments or strings.</summary>
    [Test]
    public void TheScanner_FindsEachKindOfReference()
    {
        string source = """
            using PyAlloc.Core.Support;
            using static PyAlloc.Core.Tracing.Tracemalloc;
            using Heaps = PyAlloc.Core.Allocator.Heap;
            namespace PyAlloc.Core.Objects;
            // PyAlloc.Core.Api is only mentioned here
            /* Debugging.DebugHooks neither */
            class C { string s = "Gc.Collector"; char c = 'x'; void F(Runtime* rt) { global::PyAlloc.Core.Platform.Libc.Free(null); Gc.Collector.Run(); rt->Gc.Enabled = 1; } }
            """;
        string[] folders = Layers.Select(l => l.Folder).ToArray();
        var found = Scan("Objects", "Example.cs", source, folders).Select(r => r.To).ToArray();
        Assert.That(found, Is.EquivalentTo(new[] { "Support", "Tracing", "Allocator", "Platform", "Gc" }));
    }

    // ------------------------------------------------------------------ scanning

    private static string[] CoreFolders() =>
        Directory.GetDirectories(CoreDir)
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj"))
            .Select(name => name!)
            .OrderBy(name => name, StringComparer.Ordinal)
            .ToArray();

    private static IEnumerable<string> CoreFiles()
    {
        List<string> files = CoreFolders()
            .SelectMany(folder => Directory.GetFiles(Path.Combine(CoreDir, folder), "*.cs", SearchOption.AllDirectories))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        Assert.That(files, Is.Not.Empty, $"no C# files under {CoreDir}");
        return files;
    }

    private static string FolderOf(string file) =>
        Path.GetRelativePath(CoreDir, file).Split(Path.DirectorySeparatorChar)[0];

    private static string Relative(string file) =>
        Path.GetRelativePath(TestEnvironment.RepoRoot, file).Replace(Path.DirectorySeparatorChar, '/');

    private static List<Reference> References()
    {
        string[] folders = CoreFolders();
        return CoreFiles().SelectMany(f => Scan(FolderOf(f), Relative(f), File.ReadAllText(f), folders)).ToList();
    }

    /// <summary>Every reference of <paramref name="source"/> (a file of <paramref name="from"/>) to another folder.</summary>
    private static IEnumerable<Reference> Scan(string from, string file, string source, string[] folders)
    {
        string code = Blank(source);
        string names = string.Join("|", folders.Select(Regex.Escape));
        // PyAlloc.Core.X anywhere (usings of every kind, qualified names), except the file's own namespace line.
        var qualified = new Regex(@"(?<!namespace\s+)\bPyAlloc\.Core\.(" + names + @")\b");
        // X.T inside the core: not a member (a.X, p->X), not part of a longer name.
        var relative = new Regex(@"(?<![\w.>$@])(" + names + @")\.(?=[A-Z])");
        var lines = code.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            foreach (Regex pattern in new[] { qualified, relative })
            {
                foreach (Match m in pattern.Matches(lines[i]))
                {
                    string to = m.Groups[1].Value;
                    if (to != from)
                        yield return new Reference(from, to, file, i + 1, source.Split('\n')[i].Trim());
                }
            }
        }
    }

    /* The source with comments, strings and character literals replaced by spaces (newlines
       kept, so line numbers stay).  Verbatim and raw strings are blanked as plain ones: the
       core has no raw string, and a reference hidden in one would only be reported. */
    private static string Blank(string s)
    {
        var sb = new StringBuilder(s);
        int i = 0;
        while (i < s.Length)
        {
            // Invariants: sb[0, i) is the blanked prefix; i is not inside a comment or literal.
            int start = i;
            if (s[i] == '/' && i + 1 < s.Length && s[i + 1] == '/')
                i = s.IndexOf('\n', i) is int e && e >= 0 ? e : s.Length;
            else if (s[i] == '/' && i + 1 < s.Length && s[i + 1] == '*')
                i = s.IndexOf("*/", i + 2, StringComparison.Ordinal) is int e && e >= 0 ? e + 2 : s.Length;
            else if (s[i] == '"' || (s[i] == '@' && i + 1 < s.Length && s[i + 1] == '"'))
                i = EndOfString(s, i);
            else if (s[i] == '\'')
                i = EndOfChar(s, i);
            else
            {
                i++;
                continue;
            }
            for (int j = start; j < i; j++)
            {
                if (sb[j] != '\n')
                    sb[j] = ' ';
            }
        }
        return sb.ToString();
    }

    private static int EndOfString(string s, int i)
    {
        bool verbatim = s[i] == '@';
        i += verbatim ? 2 : 1;
        while (i < s.Length)
        {
            if (!verbatim && s[i] == '\\')
                i += 2;
            else if (s[i] == '"' && verbatim && i + 1 < s.Length && s[i + 1] == '"')
                i += 2;
            else if (s[i] == '"')
                return i + 1;
            else
                i++;
        }
        return s.Length;
    }

    private static int EndOfChar(string s, int i)
    {
        int end = s.IndexOf('\'', i + (i + 1 < s.Length && s[i + 1] == '\\' ? 3 : 2));
        return end < 0 ? s.Length : end + 1;
    }

    // ------------------------------------------------------------------ the graph

    private static Dictionary<string, SortedSet<string>> Graph(IEnumerable<Reference> references)
    {
        var graph = CoreFolders().ToDictionary(f => f, _ => new SortedSet<string>(StringComparer.Ordinal));
        foreach (Reference r in references)
            graph[r.From].Add(r.To);
        return graph;
    }

    /* A cycle as its folders, the first repeated at the end; null when there is none. */
    private static List<string>? FindCycle(Dictionary<string, SortedSet<string>> graph)
    {
        var state = new Dictionary<string, int>();   // 1: on the path, 2: done
        var path = new List<string>();
        List<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (string next in graph[node])
            {
                if (state.GetValueOrDefault(next) == 1)
                    return path.Skip(path.IndexOf(next)).Append(next).ToList();
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found)
                    return found;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (string node in graph.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle)
                return cycle;
        }
        return null;
    }

    /* The layers top down, each with what it holds and the folders it names. */
    private static string Describe(Dictionary<string, SortedSet<string>> graph)
    {
        var text = new StringBuilder("The core's layers, top first (folder: what it holds; -> the folders it names):\n");
        foreach ((string folder, string holds) in Layers.Reverse())
        {
            string names = graph.TryGetValue(folder, out var to) && to.Count > 0 ? string.Join(", ", to) : "nothing";
            text.Append($"  {folder,-10} {holds}\n  {"",-10} -> {names}\n");
        }
        return text.ToString();
    }
}
