using System.Diagnostics;
using System.Reflection;
using NUnit.Framework;
using PyAlloc.Core.Allocator;

namespace PyAlloc.Tests.Core;

/// <summary>
/// The test command runs the core's tests twice: with the core built in Release (as the
/// library is published) and in Debug, where its <c>Debug.Assert</c>s are compiled in and run
/// (build.sh's "the core's tests in a Debug build"). This checks that each run tests the build
/// it claims to: a Debug run against a Release core would run no assert at all.
/// </summary>
[TestFixture]
public sealed class BuildConfigurationTests
{
    [Test]
    public void The_core_is_built_in_the_configuration_of_this_run()
    {
#if DEBUG
        const bool debugRun = true;
#else
        const bool debugRun = false;
#endif
        var debuggable = typeof(Heap).Assembly.GetCustomAttribute<DebuggableAttribute>();
        bool coreIsDebug = debuggable != null && debuggable.IsJITOptimizerDisabled;
        Assert.That(coreIsDebug, Is.EqualTo(debugRun),
            "PyAlloc.Core's build (Debug: optimiser off, asserts compiled in) must match the test run's");
    }
}
