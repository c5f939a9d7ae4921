using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using PyAlloc.Interop;

namespace PyAlloc;

/// <summary>
/// An allocator hook written in C# (CPython's <c>PyMem_SetAllocator</c> with a wrapper): override
/// <see cref="Malloc"/>, <see cref="Calloc"/>, <see cref="Realloc"/> and <see cref="Free"/> to account, limit or
/// log; each forwards by default to <see cref="Next"/>, the allocator in force when the hook was installed.
/// </summary>
/// <remarks>
/// <para><see cref="Install"/> makes every <c>pa_malloc</c> &amp; co. of the process, from C or .NET, call this
/// object (through <c>[UnmanagedCallersOnly]</c> trampolines, with the GC transition): a hook is for accounting,
/// limits and tests, not for speed. <see cref="Uninstall"/> puts <see cref="Next"/> back. Install and uninstall while
/// no other thread allocates (CPython asks the same).</para>
/// <para>An override runs on the allocating thread, which may be a C thread. An exception it throws cannot cross
/// the library: an allocation then fails (null, or <see cref="PyAllocException"/> from <see cref="PyMemory.Alloc"/>),
/// a free is not done; either way the exception is written to stderr ("Exception ignored in PyAllocatorHook").
/// An override must not allocate through <see cref="PyMemory"/> itself except through <see cref="Next"/>.</para>
/// <para>The object stays reachable while installed, and afterwards as long as a thread may still be in one of its
/// calls: the context handed to the library is a GC handle that is never freed (a few bytes per install).</para>
/// </remarks>
public abstract unsafe class PyAllocatorHook
{
    private PaMemAllocator _next;
    private bool _installed;

    /// <summary>The allocator this hook replaced, to forward to (valid once installed).</summary>
    protected PaMemAllocator Next => _next;

    /// <summary>True between <see cref="Install"/> and <see cref="Uninstall"/>.</summary>
    public bool IsInstalled => _installed;

    /// <summary>A block of <paramref name="size"/> bytes, or null; by default <see cref="Next"/>'s.</summary>
    /// <param name="size">Bytes asked by the program.</param>
    protected virtual void* Malloc(nuint size) => _next.Malloc(_next.Ctx, size);

    /// <summary>A zeroed block of <paramref name="count"/> * <paramref name="size"/> bytes, or null; by default <see cref="Next"/>'s.</summary>
    /// <param name="count">Elements.</param>
    /// <param name="size">Bytes per element.</param>
    protected virtual void* Calloc(nuint count, nuint size) => _next.Calloc(_next.Ctx, count, size);

    /// <summary><paramref name="block"/> resized, or null (the block kept); by default <see cref="Next"/>'s.</summary>
    /// <param name="block">A live block, or null.</param>
    /// <param name="size">The new size.</param>
    protected virtual void* Realloc(void* block, nuint size) => _next.Realloc(_next.Ctx, block, size);

    /// <summary>Releases <paramref name="block"/> (never null); by default through <see cref="Next"/>.</summary>
    /// <param name="block">A block this allocator or an earlier one made.</param>
    protected virtual void Free(void* block) => _next.Free(_next.Ctx, block);

    /// <summary>Installs this hook over the allocator in force (<c>pa_mem_set_allocator</c>).</summary>
    /// <exception cref="InvalidOperationException">It is installed already.</exception>
    /// <exception cref="PyAllocException">The library refused it.</exception>
    public void Install()
    {
        if (_installed)
            throw new InvalidOperationException("this PyAllocatorHook is installed already");
        _next = PyMemory.GetAllocator(PaMemDomain.Mem);
        var hook = new PaMemAllocator
        {
            Ctx = (void*)GCHandle.ToIntPtr(GCHandle.Alloc(this)),   // never freed: see the remarks
            Malloc = &MallocTrampoline,
            Calloc = &CallocTrampoline,
            Realloc = &ReallocTrampoline,
            Free = &FreeTrampoline,
        };
        PyMemory.SetAllocator(PaMemDomain.Mem, hook);
        _installed = true;
    }

    /// <summary>Puts back the allocator this hook replaced. Blocks it made go there when freed (the default
    /// hooks forward, so they came from there).</summary>
    /// <exception cref="InvalidOperationException">It is not installed.</exception>
    public void Uninstall()
    {
        if (!_installed)
            throw new InvalidOperationException("this PyAllocatorHook is not installed");
        PyMemory.SetAllocator(PaMemDomain.Mem, _next);
        _installed = false;
    }

    private static PyAllocatorHook Of(void* ctx) => (PyAllocatorHook)GCHandle.FromIntPtr((nint)ctx).Target!;

    [UnmanagedCallersOnly]
    private static void* MallocTrampoline(void* ctx, nuint size)
    {
        try { return Of(ctx).Malloc(size); }
        catch (Exception e) { Ignored(e); return null; }
    }

    [UnmanagedCallersOnly]
    private static void* CallocTrampoline(void* ctx, nuint count, nuint size)
    {
        try { return Of(ctx).Calloc(count, size); }
        catch (Exception e) { Ignored(e); return null; }
    }

    [UnmanagedCallersOnly]
    private static void* ReallocTrampoline(void* ctx, void* block, nuint size)
    {
        try { return Of(ctx).Realloc(block, size); }
        catch (Exception e) { Ignored(e); return null; }
    }

    [UnmanagedCallersOnly]
    private static void FreeTrampoline(void* ctx, void* block)
    {
        try { Of(ctx).Free(block); }
        catch (Exception e) { Ignored(e); }
    }

    private static void Ignored(Exception e)
    {
        try { Console.Error.WriteLine($"Exception ignored in PyAllocatorHook: {e}"); }
        catch { /* nothing left to report with */ }
    }
}
