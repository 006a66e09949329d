using System.Collections.Immutable;

namespace OrleansControl.GrainInterfaces.Models;

/// <summary>
/// One row of the connection index (what ListConnections returns per connection). <see cref="Replica"/>: the row is
/// this region's copy of a connection the other region owns (read only here; <see cref="Region"/> says whose).
/// <see cref="RegisteredAt"/> and <see cref="ActivatedAt"/> say which registration and which activation of the
/// connection grain wrote the row, so a row from a registration or state the store has since lost is replaced by the
/// grain's current one even when its version is higher (docs/grains.md, "The index never serves a stale row").
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionSummary")]
public sealed record ConnectionSummary(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string ServerPool,
    [property: Id(3)] string? ServerId,
    [property: Id(4)] ConnectionStatus Status,
    [property: Id(5)] int HealthScore,
    [property: Id(6)] string? FailoverTarget,
    [property: Id(7)] long Version,
    [property: Id(8)] DateTimeOffset? LastHeartbeat,
    [property: Id(9)] DateTimeOffset UpdatedAt,
    [property: Id(10)] string? ServerAddress = null,
    [property: Id(11)] string? SidecarId = null,
    [property: Id(12)] string? Region = null,
    [property: Id(13)] string StatusDetail = "",
    [property: Id(14)] bool Replica = false,
    [property: Id(15)] DateTimeOffset? RegisteredAt = null,
    [property: Id(16)] DateTimeOffset? ActivatedAt = null,
    [property: Id(17)] string? Incarnation = null);

/// <summary>
/// Filters (all optional, combined with AND) and paging for <see cref="IConnectionIndexGrain.List"/>.
/// Results are ordered by connection id; <see cref="PageToken"/> is the <c>NextPageToken</c> of the previous page.
/// <see cref="Replicas"/>: null lists both this region's connections and its replicas of the other region's, false
/// only its own, true only the replicas.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionQuery")]
public sealed record ConnectionQuery(
    [property: Id(0)] ConnectionStatus? Status = null,
    [property: Id(1)] string? ClientId = null,
    [property: Id(2)] string? ServerPool = null,
    [property: Id(3)] string? ServerId = null,
    [property: Id(4)] int PageSize = 100,
    [property: Id(5)] string? PageToken = null,
    [property: Id(6)] string? SidecarId = null,
    [property: Id(7)] bool? Replicas = null);

[GenerateSerializer, Immutable, Alias("oc.ConnectionPage")]
public sealed record ConnectionPage(
    [property: Id(0)] ImmutableArray<ConnectionSummary> Items,
    [property: Id(1)] string? NextPageToken,
    [property: Id(2)] int TotalMatched);
