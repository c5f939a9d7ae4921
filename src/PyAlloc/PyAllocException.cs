using System;

namespace PyAlloc;

/// <summary>
/// A failure reported by libpyalloc, thrown by every member of the idiomatic layer that fails (all but the
/// <c>Try</c> forms and <see cref="PyMemory.Free"/>): <see cref="PyMemory"/>,
/// <see cref="PyBuffer"/>, <see cref="PyRuntime"/>, <see cref="PyList"/>, <see cref="PyWeakRef"/>, <see cref="PyTypeBuilder"/>,
/// <see cref="Tracemalloc"/> and <see cref="TraceSnapshot"/>.
/// </summary>
/// <remarks>The message is the calling thread's <c>pa_last_error()</c> text at the time of the failure.</remarks>
public sealed class PyAllocException : Exception
{
    /// <summary>An exception with no message.</summary>
    public PyAllocException()
    {
    }

    /// <summary>An exception carrying <paramref name="message"/> (normally <c>pa_last_error()</c>'s text).</summary>
    /// <param name="message">What failed.</param>
    public PyAllocException(string message)
        : base(message)
    {
    }

    /// <summary>An exception carrying <paramref name="message"/> and the exception that caused it.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public PyAllocException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
