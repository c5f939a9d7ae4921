using System.Collections.Generic;
using NUnit.Framework;
using PyAlloc.Core.Allocator;

namespace PyAlloc.Tests.Core;

/// <summary>The allocator's geometry, checked against plain arithmetic.</summary>
[TestFixture]
public sealed unsafe class GeometryTests
{
    [Test]
    public void Constants_AreCPython312On64Bit_AndAgreeWithTheHeader()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Geometry.Alignment, Is.EqualTo(NativeMethods.PA_ALIGNMENT));
            Assert.That(1 << Geometry.AlignmentShift, Is.EqualTo(Geometry.Alignment));
            Assert.That(Geometry.SmallRequestThreshold, Is.EqualTo(NativeMethods.PA_SMALL_REQUEST_THRESHOLD));
            Assert.That(Geometry.NumSizeClasses, Is.EqualTo(NativeMethods.PA_NUM_SIZE_CLASSES));
            Assert.That(Geometry.PoolSize, Is.EqualTo(NativeMethods.PA_POOL_SIZE));
            Assert.That(Geometry.ArenaSize, Is.EqualTo(NativeMethods.PA_ARENA_SIZE));
            Assert.That(Geometry.PoolsPerArena, Is.EqualTo(Geometry.ArenaSize / Geometry.PoolSize));
            Assert.That(Geometry.PoolOverhead % Geometry.Alignment, Is.Zero, "the first block must be aligned");
        }
    }

    [Test]
    public void StructSizes_PoolHeaderIs48_ArenaObjectIs128()
    {
        Assert.That(sizeof(PoolHeader), Is.EqualTo(48));
        Assert.That(sizeof(PoolHeader), Is.EqualTo(Geometry.PoolOverhead));
        Assert.That(sizeof(ArenaObject), Is.EqualTo(128));
    }

    [Test]
    public void SizeToIndex_MapsEveryRequestTo_TheSmallestClassThatHoldsIt()
    {
        var wrong = new List<string>();
        for (nuint n = 0; n <= Geometry.SmallRequestThreshold; n++)
        {
            uint expected = n == 0 ? 0u : (uint)((n - 1) / 16);
            uint index = Geometry.SizeToIndex(n);
            uint size = Geometry.IndexToSize(index);
            if (index != expected || size < (n == 0 ? 1 : n) || (index > 0 && Geometry.IndexToSize(index - 1) >= n))
                wrong.Add($"SizeToIndex({n}) = {index} (class size {size}), expected {expected}");
        }
        Assert.That(wrong, Is.Empty, string.Join("\n", wrong));
    }

    [Test]
    public void IndexToSize_Is16TimesIndexPlusOne_AndInvertsSizeToIndex()
    {
        for (uint i = 0; i < Geometry.NumSizeClasses; i++)
        {
            Assert.That(Geometry.IndexToSize(i), Is.EqualTo(16 * (i + 1)));
            Assert.That(Geometry.SizeToIndex(Geometry.IndexToSize(i)), Is.EqualTo(i));
        }
    }

    [Test]
    public void BlocksPerPool_IsWhatFitsAfterTheHeader()
    {
        for (uint i = 0; i < Geometry.NumSizeClasses; i++)
        {
            uint size = 16 * (i + 1);
            uint blocks = Geometry.BlocksPerPool(i);
            Assert.That(blocks * size, Is.LessThanOrEqualTo(Geometry.PoolSize - Geometry.PoolOverhead), $"class {i}");
            Assert.That((blocks + 1) * size, Is.GreaterThan(Geometry.PoolSize - Geometry.PoolOverhead), $"class {i}");
        }
    }

    [Test]
    public void IsBlockBoundary_AgreesWithModulo_ForEveryOffsetOfAPool_InEveryClass()
    {
        var wrong = new List<string>();
        for (uint index = 0; index < Geometry.NumSizeClasses; index++)
        {
            uint size = 16 * (index + 1);
            for (nuint offset = 0; offset <= Geometry.PoolSize - Geometry.PoolOverhead; offset++)
            {
                bool expected = offset % size == 0;
                if (Geometry.IsBlockBoundary(offset, index) != expected && wrong.Count < 50)
                    wrong.Add($"IsBlockBoundary({offset}, class {index} = {size} bytes) = {!expected}");
            }
        }
        Assert.That(wrong, Is.Empty, string.Join("\n", wrong));
    }
}
