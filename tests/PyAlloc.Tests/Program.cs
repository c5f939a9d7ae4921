using System;
using PyAlloc.Tests.Native;
using PyAlloc.Tests.Native.Objects;

namespace PyAlloc.Tests;

/// <summary>
/// The test assembly run as a program: a child process for the tests that need one (the
/// allocator mode is fixed once per process, and the default fatal error handler aborts).
/// </summary>
/// <remarks>
/// <c>dotnet PyAlloc.Tests.dll --debug-hooks-child SCENARIO</c> (see <see cref="DebugHooksChild"/>),
/// <c>--shutdown-child SCENARIO</c> (see <see cref="ShutdownChild"/>),
/// <c>--allocator-hooks-child SCENARIO</c> (see <see cref="AllocatorHooksChild"/>).
/// The tests themselves run under <c>dotnet test</c>, which does not use this entry point.
/// </remarks>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == DebugHooksChild.Verb)
            return DebugHooksChild.Run(args[1]);
        if (args.Length == 2 && args[0] == ShutdownChild.Verb)
            return ShutdownChild.Run(args[1]);
        if (args.Length == 2 && args[0] == AllocatorHooksChild.Verb)
            return AllocatorHooksChild.Run(args[1]);
        Console.Error.WriteLine($"PyAlloc.Tests: run the tests with `dotnet test`; as a program it only knows " +
                                $"{DebugHooksChild.Verb}, {ShutdownChild.Verb} and {AllocatorHooksChild.Verb} SCENARIO");
        return 2;
    }
}
