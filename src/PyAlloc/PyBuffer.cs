using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace PyAlloc;

/// <summary>
/// A block of libpyalloc memory owned by a .NET object: <see cref="Span"/> over its bytes,
/// freed by <see cref="Dispose"/> (or, failing that, by the finalizer on the finalizer thread,
/// which the allocator allows).
/// </summary>
/// <remarks>
/// Follows <see cref="PyMemory"/>'s convention for members that return managed objects: failures
/// throw <see cref="PyAllocException"/> with the library's message. A buffer of length 0 is valid
/// and owns the allocator's unique minimal block. Not thread-safe, except that <see cref="Dispose"/>
/// frees the block exactly once. Keep the buffer alive (a <c>using</c> does) while a <see cref="Span"/>
/// or <see cref="Pointer"/> taken from it is in use: the finalizer frees the block.
/// </remarks>
public sealed unsafe class PyBuffer : IDisposable
{
    private nint _block;
    private int _length;

    private PyBuffer(void* block, int length)
    {
        _block = (nint)block;
        _length = length;
    }

    /// <summary>Frees the block if <see cref="Dispose"/> was not called.</summary>
    ~PyBuffer() => Release();

    /// <summary>A buffer of <paramref name="length"/> uninitialised bytes.</summary>
    /// <param name="length">Bytes, 0 or more.</param>
    /// <returns>The buffer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    /// <exception cref="PyAllocException">Out of memory.</exception>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    public static PyBuffer Allocate(int length, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new PyBuffer(PyMemory.Alloc((nuint)length, file, line), length);
    }

    /// <summary>A buffer of <paramref name="length"/> zero bytes.</summary>
    /// <param name="length">Bytes, 0 or more.</param>
    /// <returns>The buffer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    /// <exception cref="PyAllocException">Out of memory.</exception>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    public static PyBuffer AllocateZeroed(int length, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new PyBuffer(PyMemory.Calloc(1, (nuint)length, file, line), length);
    }

    /// <summary>The length asked for, in bytes.</summary>
    public int Length => _length;

    /// <summary>True once <see cref="Dispose"/> has freed the block.</summary>
    public bool IsDisposed => Volatile.Read(ref _block) == 0;

    /// <summary>The block's address (16-byte aligned).</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public void* Pointer => (void*)Block;

    /// <summary>The <see cref="Length"/> bytes of the block.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public Span<byte> Span => new((void*)Block, _length);

    /// <summary>Usable bytes of the block (at least <see cref="Length"/>): <see cref="PyMemory.UsableSize"/>.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public nuint UsableSize => PyMemory.UsableSize((void*)Block);

    /// <summary>Resizes the buffer, keeping its first min(old, new) bytes (<c>pa_realloc</c>).</summary>
    /// <param name="length">The new length, 0 or more.</param>
    /// <remarks>The block may move: spans and pointers taken before are invalid afterwards.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    /// <exception cref="PyAllocException">Out of memory; the buffer is unchanged.</exception>
    /// <param name="file">The caller's source file (filled in by the compiler): tracemalloc's site.</param>
    /// <param name="line">The caller's line (filled in by the compiler).</param>
    public void Resize(int length, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _block = (nint)PyMemory.Realloc((void*)Block, (nuint)length, file, line);
        _length = length;
        GC.KeepAlive(this);
    }

    /// <summary>Frees the block. Later calls do nothing.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private nint Block
    {
        get
        {
            nint block = _block;
            ObjectDisposedException.ThrowIf(block == 0, this);
            return block;
        }
    }

    private void Release()
    {
        nint block = Interlocked.Exchange(ref _block, 0);
        if (block != 0)
            PyMemory.Free((void*)block);
    }
}
