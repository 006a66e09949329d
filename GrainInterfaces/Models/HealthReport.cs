namespace OrleansControl.GrainInterfaces.Models;

/// <summary>A sidecar's own verdict on its connection, outside the heartbeat cadence.</summary>
[GenerateSerializer, Alias("oc.ReportedHealth")]
public enum ReportedHealth
{
    Healthy = 0,
    Degraded = 1,
}

[GenerateSerializer, Immutable, Alias("oc.HealthReport")]
public sealed record HealthReport(
    [property: Id(0)] ReportedHealth Health,
    [property: Id(1)] string Reason);

/// <summary>
/// A sidecar (or the gateway) saying the connection is broken. <see cref="ServerId"/> is the server the reporter
/// saw fail: if the connection has already moved elsewhere the report is stale and moves nothing.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.FailureReport")]
public sealed record FailureReport(
    [property: Id(0)] string Reason,
    [property: Id(1)] string? ServerId = null);
