namespace PyAlloc;

/// <summary>The allocator modes of <c>PYALLOC_MALLOC</c> and <c>pa_set_allocator_mode</c>.</summary>
public enum AllocatorMode
{
    /// <summary>"pymalloc": pools and arenas for requests up to 512 bytes (the default).</summary>
    Pymalloc,
    /// <summary>"malloc": every request to the system allocator.</summary>
    Malloc,
    /// <summary>"debug": CPython's debug hooks over pymalloc.</summary>
    Debug,
    /// <summary>"malloc_debug": CPython's debug hooks over malloc.</summary>
    MallocDebug,
}
