using System.Collections.Immutable;

namespace OrleansControl.GrainInterfaces.Models;

/// <summary>One entry of a connection's transition history.</summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionTransition")]
public sealed record ConnectionTransition(
    [property: Id(0)] ConnectionStatus From,
    [property: Id(1)] ConnectionStatus To,
    [property: Id(2)] long Version,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] string Reason);

/// <summary>
/// The full, authoritative state of one connection as returned by <see cref="IConnectionGrain.GetState"/>.
/// <see cref="StatusDetail"/> says why it is in its status when that is not obvious (waiting for a sidecar to sign on
/// at the target, no failover target); <see cref="LastLink"/> is the latest the sidecar said of its link;
/// <see cref="Incarnation"/> is the registration this state belongs to (see <see cref="ConnectionIncarnation"/>).
/// <see cref="TransactionsPerSecond"/> is the answered transactions per second between the last two heartbeats (soft
/// state: 0 after a reactivation until the second heartbeat, and 0 once heartbeats stop).
/// <see cref="HostSilo"/> is the silo whose activation answered (its Orleans silo address) and <see cref="ActivatedAt"/>
/// when that activation started: a later time than before means the grain was reactivated (a silo died or left).
/// <see cref="Standbys"/> are the client sidecars registered as standby, in activation order; <see cref="Activation"/>
/// is a DR activation under way (the connection stays on <see cref="SidecarId"/> until the standby has signed on).
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionSnapshot")]
public sealed record ConnectionSnapshot(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string ServerPool,
    [property: Id(3)] string? ServerId,
    [property: Id(4)] string? ServerAddress,
    [property: Id(5)] ConnectionStatus Status,
    [property: Id(6)] DateTimeOffset? LastHeartbeat,
    [property: Id(7)] int HealthScore,
    [property: Id(8)] string? FailoverTarget,
    [property: Id(9)] long Version,
    [property: Id(10)] ImmutableArray<ConnectionTransition> RecentTransitions,
    [property: Id(11)] ImmutableArray<FailoverRecord> RecentFailovers,
    [property: Id(12)] double LastEchoRttMs,
    [property: Id(13)] DateTimeOffset RegisteredAt,
    [property: Id(14)] ImmutableDictionary<string, string> Metadata,
    [property: Id(15)] string? SidecarId = null,
    [property: Id(16)] string? Region = null,
    [property: Id(17)] string StatusDetail = "",
    [property: Id(18)] LinkObservation? LastLink = null,
    [property: Id(19)] string? HostSilo = null,
    [property: Id(20)] DateTimeOffset? ActivatedAt = null,
    [property: Id(30)] double TransactionsPerSecond = 0,
    [property: Id(21)] string? Incarnation = null,
    [property: Id(60)] ImmutableArray<StandbyClient> Standbys = default,
    [property: Id(61)] ClientActivation? Activation = null)
{
    /// <summary>Whether <paramref name="sidecarId"/> is one of this connection's standbys (not the active one).</summary>
    public bool IsStandby(string? sidecarId) =>
        sidecarId is not null && sidecarId != SidecarId && !Standbys.IsDefault && Standbys.Any(s => s.SidecarId == sidecarId);
}
