namespace PyAlloc;

/// <summary>One row of <see cref="PyRuntime.CountObjectsByType"/> (<c>pa_type_count</c>): a type and its live objects.</summary>
public sealed unsafe class ObjectTypeCount
{
    internal ObjectTypeCount(PaType* type, string name, long count, long bytes)
    {
        Type = type;
        Name = name;
        Count = count;
        Bytes = bytes;
    }

    /// <summary>The type (borrowed: valid as long as its runtime).</summary>
    public PaType* Type { get; }

    /// <summary>The type's name.</summary>
    public string Name { get; }

    /// <summary>Live objects of the type.</summary>
    public long Count { get; }

    /// <summary>Their memory in bytes, the collector's two words before each object included (what tracemalloc traces for them).</summary>
    public long Bytes { get; }

    /// <summary>"name: count objects, bytes B".</summary>
    /// <returns>The row as text.</returns>
    public override string ToString() => $"{Name}: {Count} objects, {Bytes} B";
}
