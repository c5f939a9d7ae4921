using System;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// Part 1 of the article (reference counting) through the binding, and the header's static inline
/// functions as the binding writes them in C# (pa_incref, pa_decref, pa_setref, pa_clear, immortality).
/// </summary>
[TestFixture]
public sealed unsafe class ReferenceCountingTests : RuntimeFixture
{
    [Test]
    public void Article_WatchingReferenceCountChange_Counts1_2_3_2_1()
    {
        using PyOwned a = PyList.New(Rt);            // a = [1, 2, 3]
        long afterCreation = a.RefCount;
        PyOwned b = a.NewReference();                // b = a
        long afterB = a.RefCount;
        PyOwned c = a.NewReference();                // c = a
        long afterC = a.RefCount;
        b.Dispose();                                 // del b
        long afterDelB = a.RefCount;
        c.Dispose();                                 // del c
        long afterDelC = a.RefCount;

        Assert.That(new[] { afterCreation, afterB, afterC, afterDelB, afterDelC }, Is.EqualTo(new long[] { 1, 2, 3, 2, 1 }));
    }

    [Test]
    public void Article_WatchingReferenceCountChange_WithTheCInlineFunctions()
    {
        PaObject* a = NativeMethods.pa_list_new(Rt.Handle);
        var counts = new long[5];
        counts[0] = NativeMethods.pa_refcnt(a);
        NativeMethods.pa_incref(a);
        counts[1] = NativeMethods.pa_refcnt(a);
        NativeMethods.pa_incref(a);
        counts[2] = NativeMethods.pa_refcnt(a);
        NativeMethods.pa_decref(a);
        counts[3] = NativeMethods.pa_refcnt(a);
        NativeMethods.pa_decref(a);
        counts[4] = NativeMethods.pa_refcnt(a);
        Assert.That(counts, Is.EqualTo(new long[] { 1, 2, 3, 2, 1 }));
        NativeMethods.pa_decref(a);
    }

    [Test]
    public void StoringInAContainer_AddsAReference_AndClearingTheContainerRemovesIt()
    {
        using PyOwned item = PyList.New(Rt);
        using PyOwned container = PyList.New(Rt);
        PyList.Append(container, item);
        PyList.Append(container, item);
        Assert.That(item.RefCount, Is.EqualTo(3));
        PyList.Clear(container);
        Assert.That(item.RefCount, Is.EqualTo(1));
    }

    [Test]
    public void Decref_ToZero_FreesTheObjectImmediately_WithoutACollection()
    {
        PyOwned list = PyList.New(Rt);
        using PyOwned weak = PyWeakRef.New(list);
        Assert.That(IsAlive(weak), Is.True);
        list.Dispose();
        Assert.That(IsAlive(weak), Is.False);
        Assert.That(Rt.GetStats(), Has.All.Matches<GcGenerationStats>(s => s.Collections == 0), "no collection was needed");
    }

    [Test]
    public void TheDeathOfAnObject_FinaliserWeakrefCallbacksLegacyDelDealloc_InThatOrder_Once()
    {
        PyType t = PyTypeBuilder.For<Holder>("Everything").WithFlags(PyTypeFlags.HaveGc)
            .WithFinalize(Recorder.FinalizeRecord).WithLegacyDel(Recorder.LegacyDelRecord).WithDealloc(Recorder.DeallocRecord).Build(Rt);
        PyOwned o = t.New();
        nint address = o.Ref.Address;
        using PyOwned wr = PyWeakRef.New(o, _ => Recorder.Events.Add(("weakref callback", address)));
        o.Dispose();
        Assert.That(Recorder.Events, Is.EqualTo(new[]
        {
            ("finalize", address), ("weakref callback", address), ("legacy_del", address), ("dealloc", address),
        }));
    }

    [Test]
    public void Incref_IsASaturatingAddOnTheLow32Bits_SoImmortalObjectsNeverChange()
    {
        using PyOwned list = PyList.New(Rt);
        PaObject* o = list.Pointer;
        NativeMethods.pa_object_make_immortal(o);
        Assert.That((long)NativeMethods.pa_refcnt(o), Is.EqualTo(0xFFFFFFFFL));
        Assert.That(NativeMethods.pa_is_immortal(o), Is.EqualTo(1));
        NativeMethods.pa_incref(o);
        NativeMethods.pa_xincref(o);
        Assert.That((long)NativeMethods.pa_refcnt(o), Is.EqualTo(0xFFFFFFFFL), "incref of an immortal object");
        for (int i = 0; i < 3; i++)
            NativeMethods.pa_decref(o);
        NativeMethods.pa_xdecref(o);
        Assert.That((long)NativeMethods.pa_refcnt(o), Is.EqualTo(0xFFFFFFFFL), "decref of an immortal object never reaches zero");
        Assert.That(list.Ref.IsImmortal, Is.True);
    }

    [Test]
    public void MakeImmortal_FromTheIdiomaticLayer_FixesTheCount_AndRefusesNull()
    {
        using PyOwned list = PyList.New(Rt);
        Assert.That(list.Ref.IsImmortal, Is.False);
        list.Ref.MakeImmortal();
        Assert.That(list.Ref.IsImmortal, Is.True);
        list.Ref.DecRef();
        Assert.That(list.RefCount, Is.EqualTo(0xFFFFFFFFL));
        Assert.Throws<InvalidOperationException>(() => PyObjectRef.Null.MakeImmortal());
    }

    [Test]
    public void IsImmortal_ReadsTheLow32BitsAsASignedInt_AsTheHeader()
    {
        PaObject fake = default;
        fake.ObRefcnt = 1;
        Assert.That(NativeMethods.pa_is_immortal(&fake), Is.Zero);
        fake.ObRefcnt = 0x7FFFFFFF;
        Assert.That(NativeMethods.pa_is_immortal(&fake), Is.Zero);
        fake.ObRefcnt = unchecked((nint)0x80000000L);
        Assert.That(NativeMethods.pa_is_immortal(&fake), Is.EqualTo(1));
        fake.ObRefcnt = unchecked((nint)0x1_0000_0005L);
        Assert.That(NativeMethods.pa_is_immortal(&fake), Is.Zero, "only the low 32 bits count");
        NativeMethods.pa_incref(&fake);
        Assert.That((long)fake.ObRefcnt, Is.EqualTo(0x1_0000_0006L), "a plain increment below the saturation point");
        fake.ObRefcnt = unchecked((nint)0x1_FFFF_FFFFL);
        NativeMethods.pa_incref(&fake);
        Assert.That((long)fake.ObRefcnt, Is.EqualTo(0x1_FFFF_FFFFL), "low 32 bits all ones: saturated");
    }

    [Test]
    public void XIncrefAndXDecref_OfNull_DoNothing()
    {
        Assert.DoesNotThrow(() =>
        {
            NativeMethods.pa_xincref(null);
            NativeMethods.pa_xdecref(null);
        });
    }

    [Test]
    public void Setref_StoresTheNewValueBeforeTheOldOneDies_AndStealsItsReference()
    {
        PyType watched = HolderType("Watched", finalize: Recorder.FinalizeReadSlot);
        using PyOwned holder = HolderType().New();
        PaObject** slot = &holder.As<Holder>()->Ref;
        PyObjectRef old = watched.New().Detach();     // a new reference, given to the slot
        NativeMethods.pa_setref(slot, old.Pointer);
        using PyOwned replacement = PyList.New(Rt);
        replacement.Ref.IncRef();                     // the slot steals this one
        Recorder.WatchedSlot = slot;

        NativeMethods.pa_setref(slot, replacement.Pointer);

        Assert.That(Recorder.Events, Is.EqualTo(new[] { ("slot", replacement.Ref.Address) }),
            "the old value's finaliser ran and saw the new value already in the slot");
        Assert.That(replacement.RefCount, Is.EqualTo(2), "ours and the slot's (stolen)");
    }

    [Test]
    public void Clear_NullsTheSlotBeforeTheOldValueDies_AndIsANoOpOnAnEmptySlot()
    {
        PyType watched = HolderType("Watched", finalize: Recorder.FinalizeReadSlot);
        using PyOwned holder = HolderType().New();
        PaObject** slot = &holder.As<Holder>()->Ref;
        NativeMethods.pa_setref(slot, watched.New().Detach().Pointer);
        Recorder.WatchedSlot = slot;

        NativeMethods.pa_clear(slot);
        NativeMethods.pa_clear(slot);

        Assert.That(Recorder.Events, Is.EqualTo(new[] { ("slot", (nint)0) }), "the finaliser saw an empty slot, and ran once");
        Assert.That((long)*slot, Is.Zero);
    }

    [Test]
    public void Assign_TakesItsOwnReference_AndReleasesTheOldValue()
    {
        using PyOwned holder = HolderType().New();
        using PyOwned first = PyList.New(Rt);
        using PyOwned second = PyList.New(Rt);
        PaObject** slot = &holder.As<Holder>()->Ref;

        PyObjectRef.Assign(slot, first);
        Assert.That(first.RefCount, Is.EqualTo(2));
        PyObjectRef.Assign(slot, second);
        Assert.That((first.RefCount, second.RefCount), Is.EqualTo((1L, 2L)));
        PyObjectRef.Assign(slot, PyObjectRef.Null);
        Assert.That(second.RefCount, Is.EqualTo(1));
        Assert.That((long)*slot, Is.Zero);
    }

    [Test]
    public void PyOwned_DisposeIsIdempotent_DetachHandsTheCountOver_AndNewReferenceAddsOne()
    {
        PyOwned a = PyList.New(Rt);
        PyOwned b = a.NewReference();
        Assert.That(a.RefCount, Is.EqualTo(2));
        b.Dispose();
        b.Dispose();
        Assert.That(a.RefCount, Is.EqualTo(1), "a second Dispose released nothing");
        Assert.That(b.IsDisposed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => _ = b.Ref);

        PyObjectRef raw = a.Detach();
        Assert.That(a.IsDisposed, Is.True);
        a.Dispose();
        Assert.That(raw.RefCount, Is.EqualTo(1), "Detach gave the count to the caller; Dispose after it does nothing");
        PyOwned again = PyOwned.Steal(raw);
        Assert.That(again.Ref, Is.EqualTo(raw));
        again.Dispose();
    }

    [Test]
    public void PyObjectRef_DescribesTheObject_AndNullIsRefusedBeforeItIsRead()
    {
        using PyOwned list = PyList.New(Rt);
        PyObjectRef r = list;
        Assert.That(r.TypeName, Is.EqualTo("list"));
        Assert.That(r.IsList, Is.True);
        Assert.That(r.IsWeakRef, Is.False);
        Assert.That(r.IsTracked, Is.True);
        Assert.That(r.IsFinalized, Is.False);
        Assert.That((nint)r.RuntimeHandle, Is.EqualTo((nint)Rt.Handle));
        Assert.That(r.Runtime, Is.SameAs(Rt));
        Assert.That(r.ToString(), Is.EqualTo($"<list object at 0x{(nuint)r.Address:x}>"));
        Assert.That(r == new PyObjectRef(list.Pointer), Is.True);

        Assert.That(PyObjectRef.Null.IsNull, Is.True);
        Assert.That(PyObjectRef.Null.IsList, Is.False);
        Assert.Throws<InvalidOperationException>(() => _ = PyObjectRef.Null.RefCount);
        Assert.Throws<InvalidOperationException>(() => PyObjectRef.Null.IncRef());
        Assert.Throws<ArgumentException>(() => PyOwned.Steal(PyObjectRef.Null));
    }
}
