namespace PyAlloc.Core.Platform;

/// <summary>Pages from the OS: arena memory, radix-tree nodes, descriptor chunks.</summary>
internal static unsafe class OsMemory
{
    /// <summary>
    /// Maps <paramref name="size"/> zeroed bytes aligned to <paramref name="alignment"/>
    /// (a power of two, at least a page).
    /// </summary>
    /// <returns>The mapping, or null when the OS refuses (errno is left as mmap set it).</returns>
    /// <remarks>
    /// mmap only promises page alignment. A first try often lands aligned (arenas
    /// tend to be mapped next to each other); otherwise map size + alignment and
    /// unmap the unaligned head and the tail.
    /// </remarks>
    public static byte* MapAligned(nuint size, nuint alignment)
    {
        byte* p = Map(size);
        if (p == null || ((nuint)p & (alignment - 1)) == 0)
            return p;

        Libc.Munmap(p, size);
        byte* raw = Map(size + alignment);
        if (raw == null)
            return null;
        byte* aligned = (byte*)(((nuint)raw + alignment - 1) & ~(alignment - 1));
        nuint head = (nuint)(aligned - raw);
        nuint tail = alignment - head;
        if (head != 0)
            Libc.Munmap(raw, head);
        if (tail != 0)
            Libc.Munmap(aligned + size, tail);
        return aligned;
    }

    /// <summary>Maps <paramref name="size"/> zeroed, page-aligned bytes; null on failure.</summary>
    public static byte* Map(nuint size)
    {
        void* p = Libc.Mmap(null, size, Libc.PROT_READ | Libc.PROT_WRITE,
                            Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        return p == Libc.MAP_FAILED ? null : (byte*)p;
    }

    /// <summary>Returns a mapping made by <see cref="Map"/> or <see cref="MapAligned"/> to the OS.</summary>
    public static void Unmap(void* p, nuint size) => Libc.Munmap(p, size);

    /// <summary>Sets the calling thread's errno (for callers in C).</summary>
    public static void SetErrno(int value) => *Libc.ErrnoLocation() = value;
}
