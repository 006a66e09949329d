namespace OrleansControl.Demo.Tests;

/// <summary>
/// Demo runs one at a time: each starts a dozen processes, and two at once on a 2-core machine time each other out
/// (the timings they assert are the demo's, not the machine's contention).
/// </summary>
[CollectionDefinition(Name)]
public sealed class DemoRuns
{
    public const string Name = "demo runs";
}
