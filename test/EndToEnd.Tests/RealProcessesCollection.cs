namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// Tests that run the controller, scheme servers and sidecar as real processes and kill them: alone, not beside other
/// tests, so 2 cores' worth of timing is theirs (heartbeats, echo intervals and move deadlines are 1–2 s).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealProcessesCollection
{
    public const string Name = "real processes";
}
