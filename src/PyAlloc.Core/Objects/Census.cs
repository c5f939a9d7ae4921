using System.Collections.Generic;
using System.Runtime.InteropServices;
using PyAlloc.Core.Abi;

namespace PyAlloc.Core.Objects;

/// <summary>The object census for leak hunting (the article's find_leaks, by type).</summary>
internal static unsafe class Census
{
    /// <summary>
    /// Live objects per type of <paramref name="rt"/> (types with none left out), largest
    /// total bytes first, then most objects; fills output[0..cap) and returns the total.
    /// </summary>
    public static nuint CountByType(Runtime* rt, PaTypeCount* output, nuint cap)
    {
        var rows = new List<PaTypeCount>();
        for (TypeObject* t = rt->Types; t != null; t = t->NextType)
        {
            if (t->LiveObjects > 0)
                rows.Add(new PaTypeCount { Type = t, Name = t->Name, Count = (nuint)t->LiveObjects, Bytes = t->LiveBytes });
        }
        rows.Sort((a, b) => b.Bytes != a.Bytes ? b.Bytes.CompareTo(a.Bytes) : b.Count.CompareTo(a.Count));
        for (int i = 0; i < rows.Count && (nuint)i < cap; i++)
            output[i] = rows[i];
        return (nuint)rows.Count;
    }
}
