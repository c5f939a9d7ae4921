using System;
using PyAlloc.Tests.Support;

namespace PyAlloc.Tests.Native.Objects;

/// <summary>
/// The child process of <see cref="ShutdownTests"/>: what <see cref="PyRuntime.Dispose"/> prints and runs at the end of a
/// runtime, seen from outside (the warning goes to the process's stderr from native code).
/// </summary>
/// <remarks>
/// Scenario <c>garbage</c>: two objects with legacy finalisers in a cycle go to gc.garbage; the runtime is disposed
/// (with <c>list</c> in the scenario: under <see cref="GcDebugFlags.Uncollectable"/>). Scenario <c>atexit</c>: two
/// pending finalizers, printed by their callbacks, newest first.
/// </remarks>
internal static unsafe class ShutdownChild
{
    public const string Verb = "--shutdown-child";

    public static int Run(string scenario)
    {
        var rt = new PyRuntime();
        switch (scenario)
        {
            case "garbage":
            case "garbage-list":
                if (scenario == "garbage-list")
                    rt.Debug = GcDebugFlags.Uncollectable;
                PyType legacy = PyTypeBuilder.For<Holder>("Legacy").WithFlags(PyTypeFlags.HaveGc)
                    .WithLegacyDel(Recorder.LegacyDelRecord).Build(rt);
                using (PyOwned a = legacy.New(), b = legacy.New())
                {
                    PyObjectRef.Assign(&a.As<Holder>()->Ref, b);
                    PyObjectRef.Assign(&b.As<Holder>()->Ref, a);
                    Console.WriteLine($"a=<Legacy object at 0x{(nuint)a.Ref.Pointer:x}>");
                    Console.WriteLine($"b=<Legacy object at 0x{(nuint)b.Ref.Pointer:x}>");
                }
                Console.WriteLine($"collected {rt.Collect()}");
                break;
            case "atexit":
                using (PyOwned o = PyList.New(rt))
                {
                    PyFinalizer.Register(o, () => Console.WriteLine("finalizer 1"));
                    PyFinalizer.Register(o, () => Console.WriteLine("finalizer 2"));
                    PyFinalizer.Register(o, () => Console.WriteLine("never")).AtExit = false;
                    o.Ref.IncRef(); // keeps the list alive to the end: only the atexit pass runs them
                }
                break;
            default:
                Console.Error.WriteLine($"{Verb}: unknown scenario {scenario}");
                return 2;
        }
        Console.Out.Flush();
        Console.Error.WriteLine("--- dispose ---");
        Console.Error.Flush();
        rt.Dispose();
        Console.WriteLine("disposed");
        return 0;
    }
}
