namespace OrleansControl.GrainInterfaces.Models;

/// <summary>
/// One heartbeat from a sidecar. <see cref="ErrorCount"/> and <see cref="TimeoutCount"/> are the counts
/// observed since the previous heartbeat (deltas, not totals). <see cref="Link"/> is what the link really does; null
/// (an older sidecar, a REST health report) means "signed on at the server the registry names".
/// <see cref="ResponseCount"/> is the transactions answered since the previous heartbeat (0 from older sidecars).
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.Heartbeat")]
public sealed record Heartbeat(
    [property: Id(0)] double EchoRttMs,
    [property: Id(1)] int ErrorCount,
    [property: Id(2)] int TimeoutCount,
    [property: Id(3)] DateTimeOffset SentAt,
    [property: Id(4)] LinkObservation? Link = null,
    [property: Id(30)] int ResponseCount = 0);

/// <summary>The grain's answer to a heartbeat: where the connection stands now.</summary>
[GenerateSerializer, Immutable, Alias("oc.HeartbeatAck")]
public sealed record HeartbeatAck(
    [property: Id(0)] ConnectionStatus Status,
    [property: Id(1)] int HealthScore,
    [property: Id(2)] long Version,
    [property: Id(3)] string? ServerId);
