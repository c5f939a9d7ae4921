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
    /// <remarks>
    /// Fault injection (tests): with PYALLOC_FAIL_MAP_AT=N in the environment when the library
    /// first maps memory, the N-th call (1-based) and every later one fail as an mmap refused
    /// with ENOMEM would: memory runs out at that point, in the manner of Lua's test allocator.
    /// </remarks>
    public static byte* Map(nuint size)
    {
        if (FailThisMap())
        {
            SetErrno(Libc.ENOMEM);
            return null;
        }
        void* p = Libc.Mmap(null, size, Libc.PROT_READ | Libc.PROT_WRITE,
                            Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        return p == Libc.MAP_FAILED ? null : (byte*)p;
    }

    private static long s_failAt = -1;   // -1: not read yet; 0: no injection; N: fail from the N-th map on
    private static long s_maps;

    private static bool FailThisMap()
    {
        long at = System.Threading.Volatile.Read(ref s_failAt);
        if (at < 0)
            at = ReadFailAt();
        return at != 0 && System.Threading.Interlocked.Increment(ref s_maps) >= at;
    }

    private static long ReadFailAt()
    {
        byte* v = Libc.Getenv((byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference("PYALLOC_FAIL_MAP_AT"u8)));
        long n = 0;
        for (int i = 0; v != null && v[i] >= (byte)'0' && v[i] <= (byte)'9' && i < 12; i++)
            n = n * 10 + (v[i] - (byte)'0');
        System.Threading.Volatile.Write(ref s_failAt, n);
        return n;
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
