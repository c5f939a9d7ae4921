using System;
using System.Collections.Generic;

namespace PyAlloc.Tests.Native;

/// <summary>
/// The child process of <see cref="AllocatorHooksTests"/>: an allocator hook is process-wide (every allocation of
/// every thread goes through it), so each scenario runs alone in a process of its own. A scenario prints
/// "ok" at its end; a failed check throws, which ends the process with the message on stderr.
/// </summary>
internal static unsafe class AllocatorHooksChild
{
    public const string Verb = "--allocator-hooks-child";

    /// <summary>Counts every call and forwards (accounting), refusing requests over a budget (limits).</summary>
    private sealed class CountingHook : PyAllocatorHook
    {
        public int Mallocs, Callocs, Reallocs, Frees;
        public nuint Bytes;
        public nuint Budget = nuint.MaxValue;
        public void* LastFreed;
        public bool Throw;

        protected override void* Malloc(nuint size)
        {
            Mallocs++;
            if (Throw)
                throw new InvalidOperationException("the hook's own failure");
            if (size > Budget)
                return null;
            Bytes += size;
            return base.Malloc(size);
        }

        protected override void* Calloc(nuint count, nuint size)
        {
            Callocs++;
            Bytes += count * size;
            return base.Calloc(count, size);
        }

        protected override void* Realloc(void* block, nuint size)
        {
            Reallocs++;
            Bytes += size;
            return base.Realloc(block, size);
        }

        protected override void Free(void* block)
        {
            Frees++;
            LastFreed = block;
            base.Free(block);
        }
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
            throw new InvalidOperationException($"check failed: {what} (pa_last_error: {PyMemory.LastError})");
    }

    public static int Run(string scenario)
    {
        switch (scenario)
        {
            case "counting": Counting(); break;
            case "budget": Budget(); break;
            case "throwing": Throwing(); break;
            case "debug-over-hook": DebugOverHook(); break;
            case "domains": Domains(); break;
            case "mallocstats": MallocStats(); break;
            default:
                Console.Error.WriteLine($"{Verb}: unknown scenario {scenario}");
                return 2;
        }
        Console.WriteLine("ok");
        return 0;
    }

    /* Every call reaches the hook; a block from before the hook is freed through it (it forwards); after
       Uninstall nothing does. */
    private static void Counting()
    {
        byte* before = (byte*)PyMemory.Alloc(40);
        var hook = new CountingHook();
        hook.Install();
        Check(hook.IsInstalled, "installed");
        byte* p = (byte*)PyMemory.Alloc(100);
        Check(hook.Mallocs == 1 && hook.Bytes == 100, $"one malloc of 100 bytes (saw {hook.Mallocs}, {hook.Bytes})");
        byte* z = (byte*)PyMemory.Calloc(3, 8);
        Check(hook.Callocs == 1 && z[0] == 0 && z[23] == 0, "one zeroed calloc");
        p[0] = 42;
        p = (byte*)PyMemory.Realloc(p, 3000);
        Check(hook.Reallocs == 1 && p[0] == 42, "one realloc, contents kept");
        PyMemory.Free(p);
        PyMemory.Free(z);
        Check(hook.Frees == 2 && hook.LastFreed == z, "two frees, the last one z");
        Check(PyMemory.TryFree(before), "a block from before the hook freed where it came from");
        Check(hook.Frees == 3, "... through the hook");
        hook.Uninstall();
        PyMemory.Free(PyMemory.Alloc(8));
        Check(hook.Mallocs == 1 && hook.Frees == 3, "nothing reaches an uninstalled hook");
        bool threw = false;
        try { hook.Uninstall(); } catch (InvalidOperationException) { threw = true; }
        Check(threw, "uninstalling twice throws");
    }

    /* A hook that refuses: TryAlloc gives null with the error naming the hook, Alloc throws. */
    private static void Budget()
    {
        var hook = new CountingHook { Budget = 1000 };
        hook.Install();
        Check(PyMemory.TryAlloc(2000) == null, "refused past the budget");
        Check(PyMemory.LastError.Contains("pa_mem_set_allocator returned NULL for 2000 bytes"), "the error names the hook");
        bool threw = false;
        try { PyMemory.Alloc(5000); } catch (PyAllocException) { threw = true; }
        Check(threw, "Alloc throws PyAllocException");
        void* ok = PyMemory.Alloc(500);
        PyMemory.Free(ok);
        hook.Uninstall();
    }

    /* An exception in an override cannot cross the library: the allocation fails, stderr says why. */
    private static void Throwing()
    {
        var hook = new CountingHook { Throw = true };
        hook.Install();
        Check(PyMemory.TryAlloc(64) == null, "an allocation whose hook throws fails");
        hook.Throw = false;
        hook.Uninstall();
    }

    /* PyMem_SetupDebugHooks over a hook: the hooks' layout in blocks the hook makes, their checks, their reports. */
    private static void DebugOverHook()
    {
        var reports = new List<string>();
        PyMemory.SetFatalErrorHandler(reports.Add);
        var hook = new CountingHook();
        hook.Install();
        PyMemory.SetupDebugHooks();
        byte* p = (byte*)PyMemory.Alloc(10);
        Check(hook.Mallocs == 1 && hook.Bytes == 10 + 32, $"the hook asked for 10 + 32 bytes (saw {hook.Bytes})");
        Check(p[0] == 0xCD && p[9] == 0xCD, "CLEANBYTE");
        Check(PyMemory.CheckBlock(p), "intact");
        p[10] = (byte)'x';
        Check(!PyMemory.CheckBlock(p) && reports.Count == 1 && reports[0].Contains("bad trailing pad byte"), "overflow reported");
        p[10] = 0xFD;
        PyMemory.Free(p);
        Check(hook.Frees == 1 && hook.LastFreed == p - 16, "freed through the hook, 16 bytes before the data");
        PyMemory.Free(p);
        Check(reports.Count == 2 && reports[1].Contains("double free"), "double free reported");
        Check(hook.Frees == 1, "and not passed on");
    }

    /* Run with PYALLOC_MALLOCSTATS=1: 3 MiB of small blocks, kept, map new arenas; the parent reads stderr. */
    private static void MallocStats()
    {
        for (int i = 0; i < 12000; i++)
            PyMemory.Alloc(256);
    }

    /* Only PaMemDomain.Mem has an allocator; a hook needs every function. */
    private static void Domains()
    {
        bool threw = false;
        try { PyMemory.GetAllocator(PaMemDomain.Raw); }
        catch (PyAllocException e) { threw = e.Message.Contains("PA_MEM_DOMAIN_RAW"); }
        Check(threw, "the raw domain is refused, by name");
        PaMemAllocator a = PyMemory.GetAllocator();
        Check(a.Malloc != null && a.Free != null, "the default allocator has its functions");
        void* p = a.Malloc(a.Ctx, 24);
        Check(p != null && PyMemory.UsableSize(p) >= 24, "the default allocator's malloc, called directly");
        a.Free(a.Ctx, p);
        a.Calloc = null;
        threw = false;
        try { PyMemory.SetAllocator(PaMemDomain.Mem, a); }
        catch (PyAllocException e) { threw = e.Message.Contains("NULL"); }
        Check(threw, "a null function is refused");
    }
}
