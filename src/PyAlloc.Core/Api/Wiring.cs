using System.Runtime.CompilerServices;
using PyAlloc.Core.Allocator;
using PyAlloc.Core.Debugging;
using PyAlloc.Core.Gc;
using PyAlloc.Core.Objects;

namespace PyAlloc.Core.Api;

/* ============================================================================
   Wiring: the few calls that go up the layers

   The core's folders form layers (README, Layout; CoreLayeringTests checks
   them): a folder names only the folders below it.  Where a lower layer must
   still reach code above it, it calls through a slot of its own, a static
   function pointer, and this file fills every slot once, when the module
   loads (before any other code of the core runs, in-process as in
   libpyalloc.so).  The slots sit on cold paths only (a collection that is
   due, the debug modes' slow paths), never on pa_malloc's, pa_free's,
   pa_incref's or pa_decref's fast path.

     slot (layer)                              filled with (layer)
     DebugCalls.Alloc (Allocator)              DebugHooks.AllocProcess (Debugging)
     DebugCalls.Free (Allocator)               DebugHooks.FreeProcess (Debugging)
     DebugCalls.Realloc (Allocator)            DebugHooks.Realloc (Debugging)
     DebugCalls.UsableSize (Allocator)         DebugHooks.UsableSize (Debugging)
     ObjectDebugCalls.Alloc (Objects)          DebugHooks.AllocObject (Debugging)
     ObjectDebugCalls.Free (Objects)           DebugHooks.FreeObject (Debugging)
     ObjectDebugCalls.OwnerOfBlock (Objects)   DebugHooks.OwnerOfObjectBlock (Debugging)
     ObjectDebugCalls.ForgetBlock (Objects)    DebugHooks.ForgetObjectBlock (Debugging)
     ObjectDebugCalls.CheckBlock (Objects)     DebugHooks.CheckObjectBlock (Debugging)
     CollectorCalls.CollectGenerations (Objects)  Collector.CollectGenerations (Gc)
     CollectorCalls.CollectAtShutdown (Objects)   GcModule.CollectAtShutdown (Gc)
============================================================================ */

/// <summary>Fills the lower layers' slots for the calls that go up (the table above).</summary>
internal static unsafe class Wiring
{
    /// <summary>Runs once, before any other code of the module.</summary>
    /// <remarks>Post: no slot of the table is null.</remarks>
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255",
        Justification = "The core is the library's own code (never loaded as someone's plug-in): its lower layers " +
                        "need the slots filled before their first call, whichever entry point comes first.")]
    internal static void Connect()
    {
        DebugCalls.Alloc = &DebugHooks.AllocProcess;
        DebugCalls.Free = &DebugHooks.FreeProcess;
        DebugCalls.Realloc = &DebugHooks.Realloc;
        DebugCalls.UsableSize = &DebugHooks.UsableSize;
        ObjectDebugCalls.Alloc = &DebugHooks.AllocObject;
        ObjectDebugCalls.Free = &DebugHooks.FreeObject;
        ObjectDebugCalls.OwnerOfBlock = &DebugHooks.OwnerOfObjectBlock;
        ObjectDebugCalls.ForgetBlock = &DebugHooks.ForgetObjectBlock;
        ObjectDebugCalls.CheckBlock = &DebugHooks.CheckObjectBlock;
        CollectorCalls.CollectGenerations = &Collector.CollectGenerations;
        CollectorCalls.CollectAtShutdown = &GcModule.CollectAtShutdown;
    }
}
