using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static PyAlloc.Interop.NativeMethods;

namespace PyAlloc.Tests.Native;

/// <summary>
/// The child process of <see cref="DebugHooksTests"/>: libpyalloc.so with the debug hooks on
/// (the parent sets <c>PYALLOC_MALLOC</c>), driven through the binding.
/// </summary>
/// <remarks>
/// <para>Scenario <c>handler</c>: a fatal error handler written in C# ([UnmanagedCallersOnly]) records
/// every report; each step does one thing and prints what happened between <c>&lt;&lt;&lt;</c> and
/// <c>&gt;&gt;&gt;</c>: its name, the number of reports, a result, <c>pa_last_error</c>, then the last report
/// (<see cref="Step"/>). The parent parses and checks them.</para>
/// <para>Scenario <c>default-abort</c>: an overflow freed with the default handler in place: the process
/// must print the report on stderr and abort before it prints "still alive".</para>
/// </remarks>
internal static unsafe class DebugHooksChild
{
    public const string Verb = "--debug-hooks-child";

    private static readonly List<string> s_reports = new();

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Record(byte* message, void* user)
    {
        s_reports.Add(Marshal.PtrToStringUTF8((nint)message) ?? "");
        (*(int*)user)++;
    }

    private static int s_handlerCalls;

    public static int Run(string scenario)
    {
        switch (scenario)
        {
            case "handler":
                fixed (int* calls = &s_handlerCalls)
                {
                    pa_set_fatal_error_handler(&Record, calls);
                    Steps();
                }
                return 0;
            case "default-abort":
                byte* p = (byte*)PyMemory.Alloc(16);
                p[16] = (byte)'X';
                PyMemory.Free(p);
                Console.WriteLine("still alive");
                return 0;
            default:
                Console.Error.WriteLine($"{Verb}: unknown scenario {scenario}");
                return 2;
        }
    }

    private static void Steps()
    {
        Step("mode", () => PyMemory.Mode.ToString());

        Step("layout", () =>
        {
            byte* p = (byte*)PyMemory.Alloc(24);
            string bytes = Convert.ToHexString(new ReadOnlySpan<byte>(p - 16, 16 + 24 + 16));
            PyMemory.Free(p);
            return bytes;
        });

        Step("calloc", () =>
        {
            byte* p = (byte*)PyMemory.Calloc(3, 4);
            string bytes = Convert.ToHexString(new ReadOnlySpan<byte>(p, 12 + 8));
            PyMemory.Free(p);
            return bytes;
        });

        Step("usable-size", () =>
        {
            void* p = PyMemory.Alloc(100);
            nuint n = PyMemory.UsableSize(p);
            PyMemory.Free(p);
            return n.ToString();
        });

        Step("intact", () =>
        {
            void* p = PyMemory.Alloc(24);
            bool ok = PyMemory.CheckBlock(p);
            PyMemory.Free(p);
            return ok.ToString();
        });

        byte* overflowed = null;
        Step("overflow", () =>
        {
            overflowed = (byte*)PyMemory.Alloc(24);
            overflowed[24] = 0;
            PyMemory.Free(overflowed); // refused: the block stays
            return Hex(overflowed);
        });
        Step("overflow-check", () =>
        {
            bool ok = PyMemory.CheckBlock(overflowed);
            return ok.ToString();
        });
        Step("overflow-realloc", () => Hex(PyMemory.TryRealloc(overflowed, 100)));
        Step("overflow-free-checked", () => PyMemory.TryFree(overflowed) ? "freed" : PyMemory.LastError);
        Step("overflow-repaired", () =>
        {
            overflowed[24] = 0xFD;
            PyMemory.Free(overflowed);
            return "freed";
        });

        Step("underflow", () =>
        {
            byte* p = (byte*)PyMemory.Alloc(8);
            p[-2] = 0x42;
            PyMemory.Free(p);
            p[-2] = 0xFD;
            PyMemory.Free(p);
            return Hex(p);
        });

        Step("double-free", () =>
        {
            void* keep = PyMemory.Alloc(24);
            void* p = PyMemory.Alloc(24);
            PyMemory.Free(p);
            PyMemory.Free(p);
            PyMemory.Free(keep);
            return Hex(p);
        });

        Step("wrong-api", () =>
        {
            PaRuntime* rt = pa_runtime_new();
            PaObject* list = pa_list_new(rt);
            PyMemory.Free(list);
            string result = $"{Hex(list)} refcnt={pa_refcnt(list)}";
            pa_decref(list);
            pa_runtime_free(rt);
            return result;
        });

        Step("foreign", () =>
        {
            byte* stack = stackalloc byte[64];
            PyMemory.Free(stack + 32);
            return Hex(stack + 32);
        });

        Step("check-null", () => NativeMethods.pa_debug_check_block(null).ToString());

        Step("managed-handler", ManagedHandlerStep);

        Step("traced-realloc", () =>
        {
            Tracemalloc.Start(1);
            byte* p = (byte*)PyMemory.Alloc(24);
            p[24] = 0;
            void* q = PyMemory.TryRealloc(p, 100); // refused: reported with where p was allocated
            p[24] = 0xFD;
            PyMemory.Free(p);
            Tracemalloc.Stop();
            return Hex(q);
        });

        Step("resize", ResizeStep);
        Step("resize-damaged", ResizeDamagedStep);
    }

    /* A var object of 3 items resized to 2: pymalloc would keep its pool block, the hooks make a fresh debug
       block. Prints "moved item0 item1 ob_size size-field+id check". */
    private static string ResizeStep()
    {
        using var rt = new PyRuntime();
        PyType vec = new PyTypeBuilder("vec").WithBasicSize(24).WithItemSize(8).Build(rt);
        using PyOwned o = vec.NewVar(3);
        long* items = (long*)((byte*)o.Pointer + 24);
        items[0] = 11;
        items[1] = 22;
        items[2] = 33;
        PaObject* before = o.Pointer;
        o.GcResize(2);
        items = (long*)((byte*)o.Pointer + 24);
        byte* data = (byte*)o.Pointer - 16; // the GC head starts the debug block's data
        string head = Convert.ToHexString(new ReadOnlySpan<byte>(data - 16, 9));
        return $"{o.Pointer != before} {items[0]} {items[1]} {((PaVarObject*)o.Pointer)->ObSize} {head} {pa_debug_check_block(o.Pointer)}";
    }

    /* A var object written past its end, then resized: reported, refused, kept; repaired, resized.
       Prints "refusal | ob_size after it | item0 after the repaired resize". */
    private static string ResizeDamagedStep()
    {
        using var rt = new PyRuntime();
        PyType vec = new PyTypeBuilder("vec").WithBasicSize(24).WithItemSize(8).Build(rt);
        using PyOwned o = vec.NewVar(3);
        ((long*)((byte*)o.Pointer + 24))[0] = 11;
        byte* end = (byte*)o.Pointer + 24 + 3 * 8;
        end[2] = 0;
        string refusal;
        try
        {
            o.GcResize(100);
            refusal = "resized";
        }
        catch (PyAllocException e)
        {
            refusal = e.Message;
        }
        long size = ((PaVarObject*)o.Pointer)->ObSize;
        end[2] = 0xFD;
        o.GcResize(100);
        return $"{refusal}/{size}/{((long*)((byte*)o.Pointer + 24))[0]}";
    }

    /* Runs one step and prints it for the parent. */
    /* The managed handler (PyMemory.SetFatalErrorHandler), in place of Record for one step: it sees the report,
       throws, and the library carries on; then Record is back. */
    private static string ManagedHandlerStep()
    {
        string? seen = null;
        int calls = 0;
        PyMemory.SetFatalErrorHandler(message =>
        {
            seen = message;
            calls++;
            throw new InvalidOperationException("thrown by the managed handler");
        });
        try
        {
            byte* p = (byte*)PyMemory.Alloc(24);
            p[24] = 0;
            bool intact = PyMemory.CheckBlock(p);
            p[24] = 0xFD;
            PyMemory.Free(p);
            return $"{intact} {calls} {seen?.Contains("bad trailing pad byte") == true}";
        }
        finally
        {
            fixed (int* c = &s_handlerCalls)
                pa_set_fatal_error_handler(&Record, c);
        }
    }

    private static void Step(string name, Func<string> action)
    {
        s_reports.Clear();
        PyMemory.ClearError();
        string result = action();
        string report = s_reports.Count > 0 ? s_reports[^1] : "";
        Console.Out.Write($"<<<{name}|{s_reports.Count}|{result}|{PyMemory.LastError}\n{report}\n>>>\n");
        Console.Out.Flush();
    }

    private static string Hex(void* p) => p == null ? "(nil)" : "0x" + ((nuint)p).ToString("x");
}
