using Orleans.Runtime;

namespace OrleansControl.GrainInterfaces.Streams;

/// <summary>
/// Where the grains publish what changed. One stream provider (<see cref="ProviderName"/>: memory streams by default,
/// Kafka with Controller:Streams=kafka, docs/events.md) with three namespaces:
/// <list type="bullet">
/// <item><see cref="StatusNamespace"/>: <see cref="ConnectionStatusChanged"/>, keyed by connection id, and every event
/// also on the key <see cref="AllKey"/> (for "watch everything").</item>
/// <item><see cref="FailoverNamespace"/>: <see cref="FailoverCommand"/>, keyed by client id and also on
/// <see cref="AllKey"/>: an event saying a move started, for watchers. The sidecar's command itself goes straight
/// into its outbox grain (<see cref="ISidecarOutboxGrain"/>), never through a stream.</item>
/// <item><see cref="ServerHealthNamespace"/>: <see cref="ServerHealthChanged"/>, keyed by pool id.</item>
/// <item>The seed's failover flow (docs/events.md): <see cref="LostNamespace"/> (<see cref="ConnectionLost"/>, by
/// connection id), <see cref="StopSendingNamespace"/> (<see cref="ServerStopSending"/>, by client id),
/// <see cref="EstablishedNamespace"/> (<see cref="ConnectionEstablished"/>) and <see cref="FailoverFailedNamespace"/>
/// (<see cref="FailoverFailed"/>), by connection id; <see cref="HealthReportsNamespace"/>
/// (<see cref="ConnectionHealthReport"/>, by connection id).</item>
/// <item><see cref="ClientFailoverNamespace"/>: <see cref="ClientDrActivated"/>, keyed by connection id and also on
/// <see cref="AllKey"/>: a connection's client moved to its DR standby.</item>
/// </list>
/// One record type per namespace: a memory-stream subscriber casts every event of its stream to its type.
/// Subscribe with <c>client.GetStreamProvider(ControllerStreams.ProviderName).GetStream&lt;T&gt;(ControllerStreams.StatusOf(id))</c>.
/// Delivery is at-most-once on the memory provider (after a reconnect, read the current state with GetState); at least
/// once on Kafka, where every event carries an id to drop repeats.
/// </summary>
public static class ControllerStreams
{
    public const string ProviderName = "controller";
    public const string StatusNamespace = "connection-status";
    public const string FailoverNamespace = "failover-commands";
    public const string ServerHealthNamespace = "server-health";
    public const string LostNamespace = "connection-lost";
    public const string StopSendingNamespace = "stop-sending";
    public const string EstablishedNamespace = "connection-established";
    public const string FailoverFailedNamespace = "failover-failed";
    public const string HealthReportsNamespace = "health-reports";
    public const string ClientFailoverNamespace = "client-failover";
    public const string AllKey = "*";

    public static StreamId StatusOf(string connectionId) => StreamId.Create(StatusNamespace, connectionId);

    public static StreamId AllStatus => StreamId.Create(StatusNamespace, AllKey);

    public static StreamId FailoverCommandsFor(string clientId) => StreamId.Create(FailoverNamespace, clientId);

    public static StreamId AllFailoverCommands => StreamId.Create(FailoverNamespace, AllKey);

    public static StreamId ClientFailoverOf(string connectionId) => StreamId.Create(ClientFailoverNamespace, connectionId);

    public static StreamId ServerHealthOf(string poolId) => StreamId.Create(ServerHealthNamespace, poolId);

    public static StreamId LostOf(string connectionId) => StreamId.Create(LostNamespace, connectionId);

    public static StreamId StopSendingFor(string clientId) => StreamId.Create(StopSendingNamespace, clientId);

    public static StreamId EstablishedOf(string connectionId) => StreamId.Create(EstablishedNamespace, connectionId);

    public static StreamId FailoverFailedOf(string connectionId) => StreamId.Create(FailoverFailedNamespace, connectionId);

    public static StreamId HealthReportsOf(string connectionId) => StreamId.Create(HealthReportsNamespace, connectionId);

    /// <summary>Every stream of <paramref name="streamNamespace"/> (the provider's <see cref="AllKey"/> copy).</summary>
    public static StreamId AllOf(string streamNamespace) => StreamId.Create(streamNamespace, AllKey);
}
