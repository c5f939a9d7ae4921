using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using PyAlloc.Core.Platform;

namespace PyAlloc.Core.Tracing;

/* ============================================================================
   Symbolising code addresses (when a snapshot is taken, never on the
   allocation path)

   A frame recorded as a return address becomes a (filename, line) pair:
     - with addr2line (binutils) and debug information in the module:
       the source file and line of the call, e.g. ("/src/app/tour.c", 42);
     - otherwise, from dladdr: ("main+0x1c (tour)", 0), or ("0x55d0c1 (tour)", 0)
       when the symbol is not exported.
   The return address points after the call, so the call's own line is
   looked up at address - 1.  Results are cached until tracing stops.
============================================================================ */

/// <summary>Turns code addresses into (file, line) frames.</summary>
internal static unsafe class Symbolizer
{
    private static readonly Dictionary<nuint, (string File, int Line)> s_cache = new();
    private static readonly object s_gate = new();
    private static string? s_addr2line;
    private static bool s_searched;

    /// <summary>fork: the cache's monitor, held across it (ForkSafety.cs).</summary>
    internal static void LockForFork() => System.Threading.Monitor.Enter(s_gate);
    internal static void UnlockAfterFork() => System.Threading.Monitor.Exit(s_gate);

    /// <summary>The frames of a traceback as values, most recent first.</summary>
    /// <remarks>A named frame's file must still be valid (the caller's string, which must outlive tracing).</remarks>
    public static (string File, int Line)[] Describe(TraceFrame[] frames)
    {
        var values = new (string File, int Line)[frames.Length];
        for (int i = 0; i < frames.Length; i++)
        {
            TraceFrame f = frames[i];
            values[i] = f.File != null
                ? (FileNames.Decode(f.File), f.Line)
                : Resolve(f.Address);
        }
        return values;
    }

    /// <summary>Resolves many addresses at once (one addr2line run per module).</summary>
    public static void Prepare(IEnumerable<nuint> addresses)
    {
        var byModule = new Dictionary<string, List<(nuint Address, nuint Lookup)>>();
        lock (s_gate)
        {
            foreach (nuint address in addresses)
            {
                if (s_cache.ContainsKey(address))
                    continue;
                var fallback = FromDladdr(address, out string? module, out nuint lookup);
                s_cache[address] = fallback;
                if (module != null)
                {
                    if (!byModule.TryGetValue(module, out var list))
                        byModule[module] = list = new();
                    list.Add((address, lookup));
                }
            }
            foreach (var (module, list) in byModule)
                RunAddr2Line(module, list);
        }
    }

    /// <summary>One address (cached; use <see cref="Prepare"/> first for many).</summary>
    public static (string File, int Line) Resolve(nuint address)
    {
        lock (s_gate)
        {
            if (s_cache.TryGetValue(address, out var known))
                return known;
        }
        Prepare([address]);
        lock (s_gate)
            return s_cache[address];
    }

    public static void Clear()
    {
        lock (s_gate)
            s_cache.Clear();
    }

    /* "symbol+0xoff (module)" from dladdr; also the module's path and the address
       addr2line wants for it (relative to the load base for shared objects and PIEs). */
    private static (string, int) FromDladdr(nuint address, out string? module, out nuint lookup)
    {
        module = null;
        lookup = address;
        Libc.DlInfo info;
        if (Libc.Dladdr((void*)address, &info) == 0)
            return ($"0x{address:x}", 0);
        string path = info.FileName != null
            ? Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(info.FileName)) : "";
        if (path.Length == 0 || !path.Contains('/'))
            path = ResolveMainProgram(path);
        string shortName = Path.GetFileName(path);
        module = File.Exists(path) ? path : null;
        lookup = IsSharedObject(path) ? address - (nuint)info.FileBase : address;
        if (info.SymbolName != null)
        {
            string symbol = Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(info.SymbolName));
            return ($"{symbol}+0x{address - (nuint)info.SymbolAddress:x} ({shortName})", 0);
        }
        return ($"0x{address:x} ({shortName})", 0);
    }

    private static string ResolveMainProgram(string name)
    {
        try
        {
            return new FileInfo("/proc/self/exe").LinkTarget ?? name;
        }
        catch (IOException)
        {
            return name;
        }
    }

    /* ET_DYN (shared objects, PIE executables) are looked up by offset from their base. */
    private static bool IsSharedObject(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            Span<byte> header = stackalloc byte[18];
            return f.Read(header) == 18 && header[0] == 0x7F && header[1] == (byte)'E' && header[16] == 3;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /* addr2line -e module -C ADDRESS..., one output line each (file:line), in batches
       that keep the command line short. */
    private static void RunAddr2Line(string module, List<(nuint Address, nuint Lookup)> list)
    {
        string? tool = FindAddr2Line();
        if (tool == null)
            return;
        const int Batch = 256;
        for (int first = 0; first < list.Count; first += Batch)
        {
            // Invariants: the addresses before first are resolved (or keep their dladdr names).
            int count = Math.Min(Batch, list.Count - first);
            var args = new List<string>(count + 4) { tool, "-e", module, "-C" };
            for (int i = 0; i < count; i++)
                args.Add("0x" + (list[first + i].Lookup - 1).ToString("x"));
            string? output = ChildProcess.Output(tool, args);
            if (output == null)
                return;
            string[] lines = output.Split('\n');
            for (int i = 0; i < count && i < lines.Length; i++)
            {
                string line = lines[i];
                int colon = line.LastIndexOf(':');
                if (colon <= 0 || line.StartsWith("??", StringComparison.Ordinal))
                    continue;
                string number = line[(colon + 1)..].Split(' ')[0];
                if (int.TryParse(number, out int lineNumber) && lineNumber > 0)
                    s_cache[list[first + i].Address] = (line[..colon], lineNumber);
            }
        }
    }

    private static string? FindAddr2Line()
    {
        if (!s_searched)
        {
            s_searched = true;
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
            {
                string candidate = Path.Combine(dir, "addr2line");
                if (File.Exists(candidate))
                {
                    s_addr2line = candidate;
                    break;
                }
            }
        }
        return s_addr2line;
    }
}
