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

    private static nuint s_pageSize;

    /// <summary>The OS page size (sysconf(_SC_PAGESIZE)); 0 when the OS does not say.</summary>
    public static nuint PageSize
    {
        get
        {
            if (s_pageSize == 0)
            {
                nint size = Libc.Sysconf(Libc._SC_PAGESIZE);
                s_pageSize = size > 0 ? (nuint)size : 0;
            }
            return s_pageSize;
        }
    }

    /// <summary>
    /// Gives the pages of <paramref name="p"/>..<paramref name="p"/>+<paramref name="size"/> back to
    /// the OS while keeping the mapping (madvise MADV_DONTNEED): the next touch of a page maps a
    /// zero-filled one.
    /// </summary>
    /// <remarks>Pre: p and size are multiples of <see cref="PageSize"/>, inside a private anonymous mapping.</remarks>
    public static void ReleasePages(void* p, nuint size) => Libc.Madvise(p, size, Libc.MADV_DONTNEED);

    /// <summary>
    /// Which pages of <paramref name="p"/>..<paramref name="p"/>+<paramref name="size"/> are resident
    /// (mincore): byte i of <paramref name="vec"/> has bit 0 set when page i is.
    /// </summary>
    /// <returns>False when the OS does not say (vec is then undefined).</returns>
    /// <remarks>Pre: p is a multiple of <see cref="PageSize"/>; vec holds size / PageSize bytes.</remarks>
    public static bool Residency(void* p, nuint size, byte* vec) => Libc.Mincore(p, size, vec) == 0;

    /// <summary>Sets the calling thread's errno (for callers in C).</summary>
    public static void SetErrno(int value) => *Libc.ErrnoLocation() = value;
}
