using System.Runtime.CompilerServices;
using System.Threading;

namespace PyAlloc.Core.Support;

/// <summary>
/// A small spin-then-yield mutual exclusion lock that lives in native memory.
/// </summary>
/// <remarks>
/// One int, zero when free, so it can sit inside unmanaged structures (a heap,
/// the arena table) that are zero-initialised. The uncontended path is one
/// compare-exchange to enter and one store to leave; under contention it spins
/// briefly and then yields the processor (<see cref="SpinWait"/>). Not re-entrant.
/// </remarks>
internal struct NativeLock
{
    private int _state;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enter()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            EnterContended();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit() => Volatile.Write(ref _state, 0);

    /// <summary>True while some thread holds the lock (for assertions).</summary>
    public readonly bool IsHeld => Volatile.Read(in _state) != 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended()
    {
        SpinWait spinner = default;
        do
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        while (Volatile.Read(ref _state) != 0 || Interlocked.CompareExchange(ref _state, 1, 0) != 0);
    }
}
