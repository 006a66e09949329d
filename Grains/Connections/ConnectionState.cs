using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Connections;

/// <summary>What a connection grain persists. Heartbeat fields may lag by up to HeartbeatPersistInterval.</summary>
[GenerateSerializer, Alias("oc.state.Connection")]
public sealed class ConnectionState
{
    [Id(0)] public string ClientId { get; set; } = "";
    [Id(1)] public string ServerPool { get; set; } = "";
    [Id(2)] public string? ServerId { get; set; }
    [Id(3)] public string? ServerAddress { get; set; }
    [Id(4)] public ConnectionStatus Status { get; set; }
    [Id(5)] public DateTimeOffset? LastHeartbeat { get; set; }
    [Id(6)] public int HealthScore { get; set; } = 100;
    [Id(7)] public string? FailoverTarget { get; set; }
    [Id(8)] public long Version { get; set; }
    [Id(9)] public List<ConnectionTransition> Transitions { get; set; } = [];
    [Id(10)] public List<FailoverRecord> Failovers { get; set; } = [];
    [Id(11)] public double LastEchoRttMs { get; set; }
    [Id(12)] public int LastErrorCount { get; set; }
    [Id(13)] public int LastTimeoutCount { get; set; }
    [Id(14)] public DateTimeOffset RegisteredAt { get; set; }
    [Id(15)] public Dictionary<string, string> Metadata { get; set; } = [];
    /// <summary>When the timeout clock (re)started: registration or the end of a failover.</summary>
    [Id(16)] public DateTimeOffset MonitoredSince { get; set; }
}
