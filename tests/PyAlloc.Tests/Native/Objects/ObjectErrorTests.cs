using System;
using System.Collections.Generic;
using NUnit.Framework;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// Bad input to the object calls: the C calls return -1 / null / PA_SIZE_ERROR and set LastError;
/// the idiomatic layer throws PyAllocException with that message (its Try forms return false).
/// </summary>
[TestFixture]
public sealed unsafe class ObjectErrorTests : RuntimeFixture
{
    private const long SizeError = unchecked((long)NativeMethods.PA_SIZE_ERROR);

    /// <summary>(call, what it must return, the start of the error it must leave).</summary>
    private List<(string Name, Func<long> Call, long Expected, string Error)> NullArgumentCalls()
    {
        PaRuntime* rt = Rt.Handle;
        PaObject* list = NativeMethods.pa_list_new(rt); // released with the runtime
        var stats = new PaGcGenerationStats[3];
        var calls = new List<(string, Func<long>, long, string)>();
        void Add(string name, Func<long> call, long expected, string error) => calls.Add((name, call, expected, error));
        Add("pa_gc_collect(NULL, 0)", () => NativeMethods.pa_gc_collect(null, 0), -1, "pa_gc_collect: rt is NULL");
        Add("pa_gc_isenabled(NULL)", () => NativeMethods.pa_gc_isenabled(null), -1, "pa_gc_isenabled: rt is NULL");
        Add("pa_gc_get_debug(NULL)", () => NativeMethods.pa_gc_get_debug(null), -1, "pa_gc_get_debug: rt is NULL");
        Add("pa_gc_get_stats(NULL, out)", () => { fixed (PaGcGenerationStats* p = stats) return NativeMethods.pa_gc_get_stats(null, p); }, -1, "pa_gc_get_stats: rt is NULL");
        Add("pa_gc_get_stats(rt, NULL)", () => NativeMethods.pa_gc_get_stats(rt, null), -1, "pa_gc_get_stats: out is NULL");
        Add("pa_gc_get_objects(NULL, -1, NULL, 0)", () => (long)NativeMethods.pa_gc_get_objects(null, -1, null, 0), SizeError, "pa_gc_get_objects: rt is NULL");
        Add("pa_gc_get_objects(rt, -1, NULL, 5)", () => (long)NativeMethods.pa_gc_get_objects(rt, -1, null, 5), SizeError, "pa_gc_get_objects: out is NULL but cap is not 0");
        Add("pa_gc_get_referrers(rt, NULL, ...)", () => (long)NativeMethods.pa_gc_get_referrers(rt, null, null, 0), SizeError, "pa_gc_get_referrers: the object is NULL");
        Add("pa_gc_get_referents(NULL, ...)", () => (long)NativeMethods.pa_gc_get_referents(null, null, 0), SizeError, "pa_gc_get_referents: the object is NULL");
        Add("pa_gc_get_freeze_count(NULL)", () => (long)NativeMethods.pa_gc_get_freeze_count(null), SizeError, "pa_gc_get_freeze_count: rt is NULL");
        Add("pa_gc_get_garbage(NULL, ...)", () => (long)NativeMethods.pa_gc_get_garbage(null, null, 0), SizeError, "pa_gc_get_garbage: rt is NULL");
        Add("pa_gc_is_tracked(NULL)", () => NativeMethods.pa_gc_is_tracked(null), -1, "pa_gc_is_tracked: the object is NULL");
        Add("pa_gc_is_finalized(NULL)", () => NativeMethods.pa_gc_is_finalized(null), -1, "pa_gc_is_finalized: the object is NULL");
        Add("pa_gc_add_callback(rt, NULL, NULL)", () => NativeMethods.pa_gc_add_callback(rt, null, null), -1, "pa_gc_add_callback: cb is NULL");
        Add("pa_gc_remove_callback(rt, unknown)", () => NativeMethods.pa_gc_remove_callback(rt, null, null), -1, "pa_gc_remove_callback:");
        Add("pa_list_new(NULL)", () => (long)NativeMethods.pa_list_new(null), 0, "pa_list_new: rt is NULL");
        Add("pa_list_size(NULL)", () => (long)NativeMethods.pa_list_size(null), SizeError, "pa_list_size: list is NULL");
        Add("pa_list_get(list, 0) of an empty list", () => (long)NativeMethods.pa_list_get(list, 0), 0, "pa_list_get: index 0 out of range (size 0)");
        Add("pa_type_new(NULL, spec)", () => (long)NativeMethods.pa_type_new(null, null), 0, "pa_type_new: rt is NULL");
        Add("pa_type_new(rt, NULL)", () => (long)NativeMethods.pa_type_new(rt, null), 0, "pa_type_new: spec is NULL");
        Add("pa_type_name(NULL)", () => (long)NativeMethods.pa_type_name(null), 0, "pa_type_name: t is NULL");
        Add("pa_object_new(NULL)", () => (long)NativeMethods.pa_object_new(null), 0, "pa_object_new: t is NULL");
        Add("pa_object_new_var(list type, 3)", () => (long)NativeMethods.pa_object_new_var(NativeMethods.pa_object_type(list), 3), 0, "pa_object_new_var: type 'list' has itemsize 0");
        Add("pa_object_runtime(NULL)", () => (long)NativeMethods.pa_object_runtime(null), 0, "pa_object_runtime: o is NULL");
        Add("pa_weakref_new(NULL, ...)", () => (long)NativeMethods.pa_weakref_new(null, null, null), 0, "pa_weakref_new: target is NULL");
        Add("pa_weakref_get(list)", () => (long)NativeMethods.pa_weakref_get(list), 0, "pa_weakref_get: expected a weakref, got a 'list'");
        Add("pa_weakref_count(NULL)", () => (long)NativeMethods.pa_weakref_count(null), SizeError, "pa_weakref_count: target is NULL");
        return calls;
    }

    [Test]
    public void NullAndBadArguments_ReturnTheFailureValue_AndSetAnErrorNamingTheCall_NeverCrash()
    {
        var problems = new List<string>();
        foreach ((string name, Func<long> call, long expected, string error) in NullArgumentCalls())
        {
            PyMemory.ClearError();
            long result = call();
            string lastError = PyMemory.LastError;
            if (result != expected)
                problems.Add($"{name} returned {result}, expected {expected}");
            if (!lastError.StartsWith(error, StringComparison.Ordinal))
                problems.Add($"{name} left the error \"{lastError}\", expected it to start with \"{error}\"");
        }
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void FreeingANullRuntime_IsANoOp()
    {
        PyMemory.ClearError();
        NativeMethods.pa_runtime_free(null);
        Assert.That(PyMemory.LastError, Is.Empty);
    }

    [TestCase(3)]
    [TestCase(-1)]
    [TestCase(int.MaxValue)]
    public void Collect_OfAnInvalidGeneration_IsMinus1WithLastErrorInC_AndThrowsInTheBinding(int generation)
    {
        Assert.That((long)NativeMethods.pa_gc_collect(Rt.Handle, generation), Is.EqualTo(-1));
        Assert.That(PyMemory.LastError, Is.EqualTo($"pa_gc_collect: invalid generation {generation} (expected 0, 1 or 2)"));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Rt.Collect(generation));
        Assert.That(e!.ParamName, Is.EqualTo("generation"));
        Assert.That(e.ActualValue, Is.EqualTo(generation));
        Assert.That(Rt.GetStats(), Has.All.Matches<GcGenerationStats>(s => s.Collections == 0), "nothing was collected");
    }

    [TestCase(3)]
    [TestCase(-2)]
    public void GetObjects_OfAnInvalidGeneration_Throws(int generation)
    {
        var e = Assert.Throws<PyAllocException>(() => Rt.GetObjects(generation));
        Assert.That(e!.Message, Does.StartWith($"pa_gc_get_objects: invalid generation {generation}"));
    }

    [Test]
    public void GcQueriesOfNull_ThrowForManagedResults()
    {
        Assert.That(Assert.Throws<PyAllocException>(() => Rt.GetReferrers(PyObjectRef.Null))!.Message, Does.StartWith("pa_gc_get_referrers:"));
        Assert.That(Assert.Throws<PyAllocException>(() => PyObjectRef.Null.GetReferents())!.Message, Does.StartWith("pa_gc_get_referents:"));
    }

    [Test]
    public void ListHelpers_FollowTheConvention()
    {
        using PyOwned list = PyList.New(Rt), item = PyList.New(Rt), weak = PyWeakRef.New(item);

        static string Refused(TestDelegate call) => Assert.Throws<PyAllocException>(call)!.Message;
        Assert.That(Refused(() => PyList.Append(PyObjectRef.Null, item)), Is.EqualTo("pa_list_append: list is NULL"));
        Assert.That(Refused(() => PyList.Append(list, PyObjectRef.Null)), Is.EqualTo("pa_list_append: item is NULL"));
        Assert.That(Refused(() => PyList.Append(weak, item)), Is.EqualTo("pa_list_append: expected a list, got a 'weakref'"));
        Assert.That(PyMemory.LastError, Is.EqualTo("pa_list_append: expected a list, got a 'weakref'"), "the message is LastError's");

        PyList.Append(list, item);
        Assert.That(PyList.TryGet(list, 1, out PyObjectRef missing), Is.False);
        Assert.That(missing.IsNull, Is.True);
        Assert.That(PyMemory.LastError, Is.EqualTo("pa_list_get: index 1 out of range (size 1)"));
        Assert.That(PyList.TryGet(list, -1, out _), Is.False, "a negative index is a huge size_t: out of range");
        Assert.That(Refused(() => PyList.Get(list, 5)), Does.StartWith("pa_list_get: index 5 out of range"));
        Assert.That(PyList.Get(list, 0), Is.EqualTo(item.Ref));
        Assert.That(PyList.TryGet(list, 0, out PyObjectRef first), Is.True);
        Assert.That(first, Is.EqualTo(item.Ref));

        Assert.That(Refused(() => PyList.Set(list, 1, item)), Does.StartWith("pa_list_set: index 1 out of range"));
        Assert.Throws<PyAllocException>(() => PyList.Set(list, 0, PyObjectRef.Null));
        Assert.That(Refused(() => PyList.Count(PyObjectRef.Null)), Is.EqualTo("pa_list_size: list is NULL"));
        Assert.That(Refused(() => PyList.Count(weak)), Does.StartWith("pa_list_size:"));
        Assert.That(Refused(() => PyList.Clear(PyObjectRef.Null)), Is.EqualTo("pa_list_clear: list is NULL"));
        Assert.Throws<PyAllocException>(() => PyList.Clear(weak));
        Assert.That(PyList.Count(list), Is.EqualTo(1), "the failed calls changed nothing");
        Assert.That(item.RefCount, Is.EqualTo(2));
    }

    [Test]
    public void ListSet_ReplacesTheItem_AndReleasesTheOldOne()
    {
        using PyOwned list = PyList.New(Rt), first = PyList.New(Rt), second = PyList.New(Rt);
        PyList.Append(list, first);
        PyList.Set(list, 0, second);
        Assert.That(PyList.Get(list, 0), Is.EqualTo(second.Ref));
        Assert.That((first.RefCount, second.RefCount), Is.EqualTo((1L, 2L)));
    }

    [Test]
    public void WeakRefHelpers_FollowTheConvention()
    {
        using PyOwned list = PyList.New(Rt);
        Assert.That(Assert.Throws<PyAllocException>(() => PyWeakRef.New(PyObjectRef.Null))!.Message, Is.EqualTo("pa_weakref_new: target is NULL"));
        Assert.That(Assert.Throws<PyAllocException>(() => PyWeakRef.New(PyObjectRef.Null, _ => { }))!.Message, Is.EqualTo("pa_weakref_new: target is NULL"));
        Assert.That(Assert.Throws<PyAllocException>(() => PyWeakRef.TryGet(PyObjectRef.Null))!.Message, Is.EqualTo("pa_weakref_get: wr is NULL"));
        Assert.That(Assert.Throws<PyAllocException>(() => PyWeakRef.TryGet(list))!.Message, Is.EqualTo("pa_weakref_get: expected a weakref, got a 'list'"));
        Assert.That(Assert.Throws<PyAllocException>(() => PyWeakRef.Count(PyObjectRef.Null))!.Message, Is.EqualTo("pa_weakref_count: target is NULL"));
        Assert.That(Rt.RegisteredCallbackHandles, Is.Zero, "a refused weakref keeps no delegate handle");
    }

    [Test]
    public void AManagedWeakrefCallback_NeedsTheTargetsRuntimeToBeAPyRuntime()
    {
        PaRuntime* raw = NativeMethods.pa_runtime_new();
        try
        {
            PaObject* list = NativeMethods.pa_list_new(raw);
            Assert.Throws<InvalidOperationException>(() => PyWeakRef.New(new PyObjectRef(list), _ => { }));
            using (PyOwned plain = PyWeakRef.New(new PyObjectRef(list)))
                Assert.That(plain.Ref.IsWeakRef, Is.True, "without a callback any runtime will do");
            NativeMethods.pa_decref(list);
        }
        finally
        {
            NativeMethods.pa_runtime_free(raw);
        }
    }

    [Test]
    public void ObjectMemory_IsRefusedByTheAllocatorsCalls_ObjectsDieByDecrefOnly()
    {
        using PyOwned list = PyList.New(Rt);
        PyMemory.Free(list.Pointer);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_free:").And.Contain("belongs to a runtime's object heap"));
        Assert.That(PyMemory.TryFree(list.Pointer), Is.False);
        Assert.That((long)PyMemory.TryRealloc(list.Pointer, 100), Is.Zero);
        Assert.That(PyMemory.LastError, Does.StartWith("pa_realloc:"));
        Assert.That(Assert.Throws<PyAllocException>(() => PyMemory.UsableSize(list.Pointer))!.Message, Does.StartWith("pa_usable_size:"));
        Assert.That(list.RefCount, Is.EqualTo(1), "the object is untouched");
        Assert.That(PyList.Count(list), Is.Zero);
    }

    [Test]
    public void RemovingAnUnregisteredCallback_Fails()
    {
        Assert.That(Rt.RemoveCallback((_, _) => { }), Is.False);
    }
}
