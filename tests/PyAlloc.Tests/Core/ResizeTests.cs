using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NUnit.Framework;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Objects;
using PyAlloc.Core.Support;
using CoreObject = PyAlloc.Core.Abi.PaObject;
using CoreTypeSpec = PyAlloc.Core.Abi.PaTypeSpec;
using CoreVarObject = PyAlloc.Core.Abi.PaVarObject;

namespace PyAlloc.Tests.Core;

/// <summary>
/// <see cref="ObjectResize"/> in-process: pymalloc's in-place rule on the runtime's pool blocks, the type's live
/// bytes following the size, a refusal leaving everything as it was, and no managed allocation when it succeeds.
/// </summary>
[TestFixture]
public sealed unsafe class ResizeTests : CoreRuntimeFixture
{
    /// <summary>A variable-sized type: the var header (24 bytes), then 8-byte items; not GC.</summary>
    private TypeObject* VecType()
    {
        byte* name = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("vec\0"u8));
        CoreTypeSpec spec = new() { Name = name, Basicsize = (nuint)sizeof(CoreVarObject), Itemsize = 8 };
        TypeObject* t = TypeObject.Create(Rt, &spec, TypeKind.User);
        Assert.That((long)t, Is.Not.Zero, Errors.LastErrorString);
        return t;
    }

    private static CoreObject* Resize(CoreObject* o, nuint n)
    {
        CoreObject* r = ObjectResize.Resize(o, n, "test");
        Assert.That((long)r, Is.Not.Zero, Errors.LastErrorString);
        Assert.That((long)((CoreVarObject*)r)->ObSize, Is.EqualTo((long)n));
        return r;
    }

    [Test]
    public void APoolBlock_IsKeptWhileItsClassFitsAndLessThanAQuarterIsSaved_AndLiveBytesFollowTheSize()
    {
        Assert.That(Pymalloc.ObjectPools, Is.True, "the tests' process runs in pymalloc mode");
        TypeObject* t = VecType();
        CoreObject* o = Lifecycle.New(t, 1, "test");          // 16 + 24 + 8 = 48 bytes: class 48
        Assert.That((long)t->LiveBytes, Is.EqualTo(48));
        CoreObject* r = Resize(o, 0);                           // 40: kept (4 * 40 > 3 * 48)
        Assert.That((nint)r, Is.EqualTo((nint)o));
        Assert.That((long)t->LiveBytes, Is.EqualTo(40));
        r = Resize(r, 1);                                       // 48 again: kept, the item zeroed
        Assert.That((nint)r, Is.EqualTo((nint)o));
        Assert.That(*(long*)((byte*)r + sizeof(CoreVarObject)), Is.Zero);
        CoreObject* big = Resize(r, 100);                       // 840: a large block
        Assert.That((nint)big, Is.Not.EqualTo((nint)o));
        Assert.That((long)t->LiveBytes, Is.EqualTo(840));
        Assert.That((long)t->LiveObjects, Is.EqualTo(1));
        CoreObject* small = Resize(big, 20);                    // 200: back into a pool
        Assert.That((nint)small, Is.Not.EqualTo((nint)big));
        CoreObject* smaller = Resize(small, 2);                 // 56 from class 208: a quarter saved, moved
        Assert.That((nint)smaller, Is.Not.EqualTo((nint)small));
        RefCount.Decref(smaller);
        Assert.That((long)t->LiveBytes, Is.Zero);
        Assert.That((long)t->LiveObjects, Is.Zero);
    }

    [Test]
    public void ARefusal_LeavesTheObjectTheErrorAndTheCountsAsTheySay()
    {
        TypeObject* t = VecType();
        CoreObject* o = Lifecycle.New(t, 3, "test");
        RefCount.Incref(o);
        Errors.Clear();
        Assert.That((long)ObjectResize.Resize(o, 50, "test"), Is.Zero);
        Assert.That(Errors.LastErrorString, Does.StartWith($"test: object {Errors.Hex(o)} of type 'vec' has 2 references"));
        Assert.That(((long)((CoreVarObject*)o)->ObSize, (long)t->LiveBytes), Is.EqualTo((3L, 64L)));
        RefCount.Decref(o);
        RefCount.Decref(o);
    }

    [Test]
    public void ResizingBackAndForth_AllocatesNoManagedMemory()
    {
        TypeObject* t = VecType();
        CoreObject* o = Lifecycle.New(t, 1, "test");
        o = Resize(Resize(o, 1000), 1); // warm-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            // Invariants: o is a live vec of 1 item with one reference.
            o = ObjectResize.Resize(o, (nuint)(i % 100) * 10 + 2, "test");
            o = ObjectResize.Resize(o, 1, "test");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That((long)o, Is.Not.Zero, Errors.LastErrorString);
        Assert.That(allocated, Is.Zero, "managed bytes allocated by 20,000 resizes");
        RefCount.Decref(o);
    }
}
