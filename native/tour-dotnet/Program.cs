// The tour, in C#: "How Python's Garbage Collector Works Under the Hood", replayed part by part
// over the .NET binding (src/PyAlloc), as native/tour/tour.c does in C.  The library is found
// through PYALLOC_LIBRARY (./build.sh tour --dotnet sets it) or next to the app.
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using PyAlloc.Interop;

namespace PyAlloc.Tour;

/// <summary>The article's class Node: a value, a parent, children, and a free <c>ref</c> attribute.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Node
{
    public PaObject Header;
    public nint Value;
    [PyRef] public PaObject* Parent;
    [PyRef] public PaObject* Children;
    [PyRef] public PaObject* Ref;
}

/// <summary>class Resource with a __del__ printing "Freed: name".</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Resource
{
    public PaObject Header;
    [PyRef] public PaObject* Other;
    public int Resurrect;
    public int NameId;
}

/// <summary>Parent: holds its children.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Parent
{
    public PaObject Header;
    [PyRef] public PaObject* Children;
}

/// <summary>Child: a weak reference to its parent.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Child
{
    public PaObject Header;
    [PyRef] public PaObject* ParentRef;
}

/// <summary>A plain, untracked object: the ints of [1, 2, 3].</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IntObject
{
    public PaObject Header;
    public nint Value;
}

internal static unsafe class Program
{
    private static readonly List<string> Names = new();
    private static PaObject* _lazarus;
    private static readonly Dictionary<string, nint> SiteFiles = new();

    private static void Part(string title) => Console.WriteLine($"\n=== {title} ===");
    private static void Step(string what) => Console.WriteLine($"\n-- {what}");
    private static void Why(string text) => Console.WriteLine($"   (why) {text}");

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void ResourceDel(PaObject* self)
    {
        Resource* r = (Resource*)self;
        string name = Names[r->NameId];
        Console.WriteLine($"Freed: {name}");
        if (r->Resurrect != 0)
        {
            NativeMethods.pa_incref(self);
            _lazarus = self;
            Console.WriteLine($"   ... and {name}'s finaliser stored it in a global: resurrected");
        }
    }

    private sealed class Types
    {
        public required PyType Int, Node, Resource, Parent, Child;
    }

    private static Types MakeTypes(PyRuntime rt) => new()
    {
        Int = PyType.Define<IntObject>(rt, "int", PyTypeFlags.None),
        Node = PyType.Define<Node>(rt, "Node"),
        Resource = PyTypeBuilder.For<Resource>("Resource").WithFlags(PyTypeFlags.HaveGc).WithFinalize(&ResourceDel).Build(rt),
        Parent = PyType.Define<Parent>(rt, "Parent"),
        Child = PyType.Define<Child>(rt, "Child"),
    };

    /// <summary>[1, 2, 3]</summary>
    private static PyOwned List123(PyRuntime rt, Types t)
    {
        PyOwned l = PyList.New(rt);
        for (int i = 1; i <= 3; i++)
        {
            using PyOwned v = t.Int.New();
            v.As<IntObject>()->Value = i;
            PyList.Append(l, v);
        }
        return l;
    }

    private static PyOwned NewNode(PyRuntime rt, Types t, nint value, bool children = true)
    {
        PyOwned n = t.Node.New();
        n.As<Node>()->Value = value;
        if (children)
            n.As<Node>()->Children = PyList.New(rt).Detach().Pointer;
        return n;
    }

    private static PyOwned NewResource(Types t, string name)
    {
        PyOwned r = t.Resource.New();
        Names.Add(name);
        r.As<Resource>()->NameId = Names.Count - 1;
        Console.WriteLine($"Created: {name}");
        return r;
    }

    private static long Tracked(PyRuntime rt, int? generation)
    {
        using PyRefArray objects = rt.GetObjects(generation);
        return objects.Count;
    }

    private static void Part1()
    {
        using var rt = new PyRuntime();
        Types t = MakeTypes(rt);
        Part("Part 1: Reference Counting");

        Step("x = [1, 2, 3]; print(sys.getrefcount(x))");
        using (PyOwned x = List123(rt, t))
            Console.WriteLine(x.RefCount + 1);
        Why("RefCount is 1, the variable's reference; sys.getrefcount adds its argument's, so the tour adds 1 too");

        Step("Watching Reference Count Change");
        PyOwned a = List123(rt, t);
        Console.WriteLine($"After creation: {a.RefCount}");
        PyOwned b = a.NewReference();
        Console.WriteLine($"After b = a: {a.RefCount}");
        PyOwned c = a.NewReference();
        Console.WriteLine($"After c = a: {a.RefCount}");
        b.Dispose();
        Console.WriteLine($"After del b: {a.RefCount}");
        c.Dispose();
        Console.WriteLine($"After del c: {a.RefCount}");
        using PyOwned wr = PyWeakRef.New(a);
        a.Dispose();
        using PyOwned? still = PyWeakRef.TryGet(wr);
        Console.WriteLine($"After del a: freed at once, no collection (a weak reference to it now gives {(still != null ? "the list" : "None")})");
    }

    private static void Part2()
    {
        using var rt = new PyRuntime();
        Types t = MakeTypes(rt);
        Part("Part 2: The Problem with Cycles");

        Step("A Simple Cycle: a = []; b = []; a.append(b); b.append(a)");
        PyOwned a = PyList.New(rt), b = PyList.New(rt);
        PyList.Append(a, b);
        PyList.Append(b, a);
        Console.WriteLine($"ref count of a: {a.RefCount}");
        Console.WriteLine($"ref count of b: {b.RefCount}");

        Step("del a; del b");
        using PyOwned wa = PyWeakRef.New(a);
        a.Dispose();
        b.Dispose();
        using (PyOwned? alive = PyWeakRef.TryGet(wa))
            Console.WriteLine($"Both still exist: a weak reference to a still finds it ({(alive != null ? "yes" : "no")}); each count is now {(alive != null ? alive.RefCount - 1 : 0)}, not 0");
        Console.WriteLine($"Collected {rt.Collect(2)} unreachable objects");
        using (PyOwned? alive = PyWeakRef.TryGet(wa))
            Console.WriteLine($"After gc.collect(): the weak reference gives {(alive != null ? "the list" : "None")}");

        Step("Real-World Cycles: Node parent/child back-references");
        PyOwned root = NewNode(rt, t, 1), leaf = NewNode(rt, t, 2);
        // root.add_child(leaf): leaf.parent = root; root.children.append(leaf)
        leaf.As<Node>()->Parent = root.NewReference().Detach().Pointer;
        PyList.Append(new PyObjectRef(root.As<Node>()->Children), leaf);
        Console.WriteLine($"root: ref count {root.RefCount} (the variable, leaf.parent)");
        Console.WriteLine($"leaf: ref count {leaf.RefCount} (the variable, root.children)");
        root.Dispose();
        leaf.Dispose();
        Console.WriteLine($"del root, leaf -> Collected {rt.Collect(2)} unreachable objects (two Nodes and their two children lists)");
    }

    private static void PrintCounts(PyRuntime rt, string label)
    {
        var (g0, g1, g2) = rt.GetCount();
        Console.WriteLine($"{label}({g0}, {g1}, {g2})");
    }

    private static void Part3()
    {
        using var rt = new PyRuntime();
        Types t = MakeTypes(rt);
        Part("Part 3: The Cyclic Garbage Collector");

        Step("The gc Module: isenabled, collect, get_count");
        Console.WriteLine(rt.IsEnabled ? "True" : "False");
        Console.WriteLine($"Collected {rt.Collect(2)} objects");
        PrintCounts(rt, "");
        var keep = new PyOwned[5];
        for (int i = 0; i < keep.Length; i++)
            keep[i] = PyList.New(rt);
        PrintCounts(rt, "after five new lists: ");
        foreach (PyOwned k in keep)
            k.Dispose();
        PrintCounts(rt, "after freeing them again: ");

        Step("Detecting Reference Cycles: a.ref = b; b.ref = a; del a, b");
        PyOwned a = NewNode(rt, t, 0, children: false), b = NewNode(rt, t, 0, children: false);
        a.As<Node>()->Ref = b.NewReference().Detach().Pointer;
        b.As<Node>()->Ref = a.NewReference().Detach().Pointer;
        a.Dispose();
        b.Dispose();
        Console.WriteLine($"Collected {rt.Collect(2)} unreachable objects");
    }

    private static void PrintGenerations(PyRuntime rt, string when) =>
        Console.WriteLine($"{when,-22} total {Tracked(rt, null)}: generation 0: {Tracked(rt, 0)}, generation 1: {Tracked(rt, 1)}, generation 2: {Tracked(rt, 2)}");

    private static void Part4()
    {
        using var rt = new PyRuntime();
        Part("Part 4: Generational Collection");

        Step("gc.get_threshold()");
        Console.WriteLine(rt.Thresholds);

        Step("Inspecting the Generations: 100 lists, then collect(0), collect(1), collect(2)");
        var objs = new PyOwned[100];
        for (int i = 0; i < objs.Length; i++)
            objs[i] = PyList.New(rt);
        PrintGenerations(rt, "after creating them:");
        rt.Collect(0);
        PrintGenerations(rt, "after collect(0):");
        rt.Collect(1);
        PrintGenerations(rt, "after collect(1):");
        rt.Collect(2);
        PrintGenerations(rt, "after collect(2):");
        foreach (PyOwned o in objs)
            o.Dispose();
    }

    private static void Part5()
    {
        using var rt = new PyRuntime();
        Types t = MakeTypes(rt);
        Part("Part 5: __del__ and Finalizers");

        Step("r = Resource(\"database_connection\"); del r   (the finaliser is an [UnmanagedCallersOnly] C# method)");
        NewResource(t, "database_connection").Dispose();

        Step("Pitfall: the order of finalisation (three Resources in a cycle, collected together)");
        PyOwned x = NewResource(t, "first"), y = NewResource(t, "second"), z = NewResource(t, "third");
        x.As<Resource>()->Other = y.NewReference().Detach().Pointer;
        y.As<Resource>()->Other = z.NewReference().Detach().Pointer;
        z.As<Resource>()->Other = x.NewReference().Detach().Pointer;
        x.Dispose(); y.Dispose(); z.Dispose();
        Console.WriteLine($"Collected {rt.Collect(2)} unreachable objects");
        Why("the collector runs the finalisers in the order it finds the objects; neither CPython nor PyAlloc promises one");

        Step("Pitfall: resurrection -- the finaliser stores self in a global");
        PyOwned ph = NewResource(t, "phoenix");
        ph.As<Resource>()->Resurrect = 1;
        ph.Dispose();
        PyObjectRef saved = new(_lazarus);
        Console.WriteLine($"still alive after del: ref count {saved.RefCount}, finalized: {(saved.IsFinalized ? "True" : "False")}");
        Console.Write("del the global again: ");
        fixed (PaObject** slot = &_lazarus)
            PyObjectRef.Clear(slot);
        Console.WriteLine("freed silently -- a finaliser runs at most once (PEP 442)");

        Step("The alternative: a with statement (in C#, a using block: acquire, use, release)");
        Console.WriteLine("Acquiring resource\nUsing resource\nReleasing resource");
    }

    /// <summary>pa_malloc_at: a block traced at the caller's file and line (the _at form).</summary>
    private static void* MallocHere(nuint size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        string name = Path.GetFileName(file);
        if (!SiteFiles.TryGetValue(name, out nint utf8))
            SiteFiles[name] = utf8 = Marshal.StringToCoTaskMemUTF8(name);   // kept for the process's life
        return NativeMethods.pa_malloc_at(size, (byte*)utf8, line);
    }

    private static void Part6()
    {
        using var rt = new PyRuntime();
        Types t = MakeTypes(rt);
        Part("Part 6: Memory Diagnostics");

        Step("tracemalloc: the top three lines (blocks allocated with pa_malloc_at at the C# caller's line)");
        Tracemalloc.Start(1);
        void** data = (void**)MallocHere((nuint)(1000 * sizeof(void*))); for (int i = 0; i < 1000; i++) data[i] = MallocHere(8000);
        void* text = MallocHere(100000);
        void** small = (void**)NativeMethods.pa_malloc((nuint)(200 * sizeof(void*)));
        for (int i = 0; i < 200; i++) small[i] = MallocHere(64);
        using (TraceSnapshot snap = Tracemalloc.TakeSnapshot())
        {
            IReadOnlyList<Statistic> top = snap.Statistics(PaStatKey.Lineno);
            for (int i = 0; i < top.Count && i < 3; i++)
                Console.WriteLine(top[i]);
        }
        Tracemalloc.Stop();
        for (int i = 0; i < 1000; i++) PyMemory.Free(data[i]);
        PyMemory.Free(data);
        PyMemory.Free(text);
        for (int i = 0; i < 200; i++) PyMemory.Free(small[i]);
        PyMemory.Free(small);
        Why("one line makes 1000 blocks of 8000 bytes and the array holding them: the article's size=7813 KiB, count=1001");

        Step("Finding Memory Leaks with gc: find_leaks() around a leaky_operation() that caches Nodes in a list");
        using PyOwned cache = PyList.New(rt);
        for (int round = 1; round <= 3; round++)
        {
            rt.Collect(2);
            long before = Tracked(rt, null);
            for (int i = 0; i < 10; i++)
            {
                using PyOwned nd = NewNode(rt, t, i);
                PyList.Append(cache, nd);
            }
            rt.Collect(2);
            long after = Tracked(rt, null);
            Console.WriteLine($"call {round}: Objects before: {before}, Objects after: {after}, Difference: {after - before}");
        }
        Console.WriteLine("The difference keeps growing: a leak (each call keeps 10 Nodes and their 10 children lists)");
    }

    private static long Collections(PyRuntime rt)
    {
        long n = 0;
        foreach (GcGenerationStats s in rt.GetStats())
            n += s.Collections;
        return n;
    }

    private static void ProcessLargeDataset(PyRuntime rt, Types t)
    {
        using PyOwned rows = PyList.New(rt);
        for (int i = 0; i < 20000; i++)
        {
            using PyOwned row = List123(rt, t);
            PyList.Append(rows, row);
        }
    }

    private static void Part7()
    {
        using var rt = new PyRuntime();
        Types t = MakeTypes(rt);
        Part("Part 7: Practical Implications");

        Step("When to Disable the GC: a cycle-free phase of 20000 new lists");
        long c0 = Collections(rt);
        ProcessLargeDataset(rt, t);
        long enabledRuns = Collections(rt) - c0;
        rt.IsEnabled = false;
        c0 = Collections(rt);
        ProcessLargeDataset(rt, t);
        long disabledRuns = Collections(rt) - c0;
        rt.IsEnabled = true;
        long found = rt.Collect(2);
        Console.WriteLine($"with the collector enabled: {enabledRuns} automatic collections during the phase");
        Console.WriteLine($"gc.disable() ... gc.enable(): {disabledRuns} collections during the phase");
        Console.WriteLine($"gc.collect() afterwards: Collected {found} (no cycles formed)");

        Step("Avoiding Cycles: weakref back-references (Parent, Child, get_parent)");
        PyOwned parent = t.Parent.New();
        parent.As<Parent>()->Children = PyList.New(rt).Detach().Pointer;
        using PyOwned child = t.Child.New();
        child.As<Child>()->ParentRef = PyWeakRef.New(parent).Detach().Pointer;
        PyList.Append(new PyObjectRef(parent.As<Parent>()->Children), child);
        Console.WriteLine($"ref count of parent: {parent.RefCount} (the weak reference adds nothing)");
        PyObjectRef weak = new(child.As<Child>()->ParentRef);
        using (PyOwned? got = PyWeakRef.TryGet(weak))
            Console.WriteLine($"child.get_parent() is parent: {(got != null && got.Ref == parent.Ref ? "True" : "False")}");
        long before = Collections(rt);
        parent.Dispose();
        using (PyOwned? got = PyWeakRef.TryGet(weak))
            Console.WriteLine($"del parent -> child.get_parent(): {(got != null ? "still there" : "None")} (freed by its count alone, {Collections(rt) - before} collections)");

        Step("gc.freeze(), as Instagram used it before fork");
        var config = new PyOwned[1000];
        for (int i = 0; i < config.Length; i++)
            config[i] = List123(rt, t);
        rt.Collect(2);
        Console.WriteLine($"tracked before freeze: {Tracked(rt, null)}");
        rt.Freeze();
        Console.WriteLine($"gc.freeze() -> gc.get_freeze_count(): {rt.FreezeCount}, tracked in generations 0-2: {Tracked(rt, null)}");
        Console.WriteLine($"gc.collect() now visits none of them: Collected {rt.Collect(2)}");
        Console.WriteLine("What it is for: a pre-fork server loads its data once, then forks workers that share those pages\n" +
                          "copy-on-write; a collection in a worker would write into every object's GC head and copy the\n" +
                          "pages.  gc.freeze() before fork moves every object into a permanent generation collections skip.");
        rt.Unfreeze();
        Console.WriteLine($"gc.unfreeze(): freeze count {rt.FreezeCount}, generation 2 holds {Tracked(rt, 2)} again");
        foreach (PyOwned o in config)
            o.Dispose();
    }

    private static int Main()
    {
        Console.WriteLine($"PyAlloc {PyMemory.Version}: CPython's memory management as a library.");
        Console.WriteLine("The tour in C#: \"How Python's Garbage Collector Works Under the Hood\", every example replayed\n" +
                          "through the .NET binding (PyRuntime, PyList, PyType, PyWeakRef, Tracemalloc).");
        Part1();
        Part2();
        Part3();
        Part4();
        Part5();
        Part6();
        Part7();
        Console.WriteLine("\nEnd of the tour.");
        return 0;
    }
}
