using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Gateway.Hosting;

namespace OrleansControl.Gateway.Ui;

/// <summary>What the page shows at one moment: this region's pools and servers, and every connection it lists.</summary>
internal sealed record UiSnapshot(
    string Region,
    DateTimeOffset At,
    ImmutableArray<UiPool> Pools,
    ImmutableArray<UiConnection> Connections,
    int TotalConnections);

internal sealed record UiPool(string PoolId, int TotalCapacity, int TotalLoad, ImmutableArray<UiServer> Servers, string? Error);

internal sealed record UiServer(
    string ServerId, string Address, string Zone, int Capacity, int Load, string Health, bool Suspect, string HealthDetail,
    double TransactionsPerSecond);

internal sealed record UiConnection(
    string ConnectionId, string ClientId, string ServerPool, string? ServerId, string? ServerAddress, string Status,
    int HealthScore, DateTimeOffset? LastHeartbeat, string? FailoverTarget, long Version, string? SidecarId, string? Region,
    string StatusDetail, bool Replica, double? TransactionsPerSecond);

/// <summary>One status change, as the page's timeline draws it (a failover is a run of them: Migrating, then Active).</summary>
internal sealed record UiStatusEvent(
    string ConnectionId, string ClientId, string From, string To, string? ServerId, string? ServerAddress,
    string? FailoverTarget, long Version, string Reason, DateTimeOffset At, string? Region, string StatusDetail);

/// <summary>A failover the controller decided (the command a sidecar will carry out).</summary>
internal sealed record UiFailoverEvent(string ConnectionId, string ClientId, string? FromServer, string ToServer, string Reason, DateTimeOffset At);

/// <summary>Reads the view from the grains: the index for the rows, the pools for servers, and each shown connection's state for its rate.</summary>
internal sealed class UiViewReader(IClusterClient cluster, IOptions<GatewayOptions> gateway, IOptions<UiOptions> options, TimeProvider time)
{
    public async Task<UiSnapshot> ReadAsync(CancellationToken ct)
    {
        var o = options.Value;
        var index = cluster.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey);
        var rows = new List<ConnectionSummary>();
        string? token = null;
        var total = 0;
        do
        {
            var page = await index.List(new ConnectionQuery(PageSize: Math.Min(500, o.MaxConnections - rows.Count), PageToken: token)).WaitAsync(ct);
            rows.AddRange(page.Items);
            total = page.TotalMatched;
            token = page.NextPageToken;
        }
        while (token is not null && rows.Count < o.MaxConnections);

        var rates = await ReadRatesAsync(rows.Where(r => !r.Replica).Take(o.MaxDetailedConnections), ct);
        var connections = rows.Select(r => new UiConnection(
            r.ConnectionId, r.ClientId, r.ServerPool, r.ServerId, r.ServerAddress, Name(r.Status), r.HealthScore, r.LastHeartbeat,
            r.FailoverTarget, r.Version, r.SidecarId, r.Region ?? gateway.Value.Region, r.StatusDetail, r.Replica,
            rates.TryGetValue(r.ConnectionId, out var rate) ? rate : null)).ToImmutableArray();

        var poolIds = o.Pools.Concat(rows.Where(r => !r.Replica).Select(r => r.ServerPool)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var pools = await Task.WhenAll(poolIds.Select(id => ReadPoolAsync(id, connections, ct)));
        return new UiSnapshot(gateway.Value.Region, time.GetUtcNow(), [.. pools], connections, total);
    }

    private async Task<Dictionary<string, double>> ReadRatesAsync(IEnumerable<ConnectionSummary> rows, CancellationToken ct)
    {
        var reads = rows.Select(async r =>
        {
            try
            {
                var state = await cluster.GetGrain<IConnectionGrain>(r.ConnectionId).GetState().WaitAsync(ct);
                return (r.ConnectionId, Rate: (double?)state.TransactionsPerSecond);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return (r.ConnectionId, Rate: null); // the row still shows; its rate is unknown, not zero
            }
        });
        return (await Task.WhenAll(reads)).Where(x => x.Rate is not null).ToDictionary(x => x.ConnectionId, x => x.Rate!.Value, StringComparer.Ordinal);
    }

    private async Task<UiPool> ReadPoolAsync(string poolId, ImmutableArray<UiConnection> connections, CancellationToken ct)
    {
        try
        {
            var pool = await cluster.GetGrain<IServerPoolGrain>(poolId).GetSnapshot().WaitAsync(ct);
            var servers = pool.Servers.Select(s => new UiServer(
                s.ServerId, s.Address, s.Zone, s.Capacity, s.Load, s.Health.ToString(), s.Suspect, s.HealthDetail,
                connections.Where(c => !c.Replica && c.ServerPool == poolId && c.ServerId == s.ServerId).Sum(c => c.TransactionsPerSecond ?? 0)))
                .ToImmutableArray();
            return new UiPool(pool.PoolId, pool.TotalCapacity, pool.TotalLoad, servers, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new UiPool(poolId, 0, 0, [], $"pool unavailable: {e.Message}");
        }
    }

    public static string Name(ConnectionStatus status) => status.ToString().ToUpperInvariant();

    public static UiStatusEvent ToUi(ConnectionStatusChanged e, string localRegion) => new(
        e.ConnectionId, e.ClientId, Name(e.From), Name(e.To), e.ServerId, e.ServerAddress, e.FailoverTarget, e.Version, e.Reason,
        e.At, e.Region ?? localRegion, e.StatusDetail ?? "");
}
