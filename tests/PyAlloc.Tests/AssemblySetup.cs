using NUnit.Framework;
using CorePymalloc = PyAlloc.Core.Allocator.Pymalloc;

namespace PyAlloc.Tests;

/// <summary>
/// Runs once before every test: fixes the allocator mode to pymalloc, both in the real
/// libpyalloc.so and in the in-process core, whatever PYALLOC_MALLOC says, since the tests
/// are about pools and arenas.
/// </summary>
/// <remarks>
/// The tests run one at a time (NUnit's default, never changed here): the statistics tests
/// compare figures before and after and rely on nobody else allocating in between.
/// </remarks>
[SetUpFixture]
public sealed class AssemblySetup
{
    /// <summary>Chooses pymalloc before the first allocation.</summary>
    [OneTimeSetUp]
    public void ChoosePymallocBeforeTheFirstAllocation()
    {
        Assert.That(PyMemory.TrySetMode(AllocatorMode.Pymalloc), Is.True, PyMemory.LastError);
        Assert.That(CorePymalloc.SetMode("pymalloc"u8), Is.Zero);
    }
}
