using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Agreement;

/// <summary>The dynamic symbols a shared library defines, as <c>nm -D --defined-only</c> lists them.</summary>
internal static class LibrarySymbols
{
    /// <summary>Defined function symbols (types T/t/W/i), version suffixes (<c>@@V1.0</c>) removed.</summary>
    public static SortedSet<string> DefinedFunctions(string library)
    {
        string listing = Processes.Run("nm", "-D", "--defined-only", library);
        var names = new SortedSet<string>(System.StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(listing, @"^[0-9a-fA-F]*\s+(?<type>[A-Za-z])\s+(?<name>[^\s@]+)(?:@+\S*)?\s*$", RegexOptions.Multiline))
        {
            if ("TtWi".Contains(m.Groups["type"].Value))
                names.Add(m.Groups["name"].Value);
        }
        return names;
    }
}
