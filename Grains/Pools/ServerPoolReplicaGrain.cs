using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Connections;

namespace OrleansControl.Grains.Pools;

/// <summary>
/// One per silo and pool ([StatelessWorker(1)] activations are always local to the caller): a copy of the pool's
/// servers refreshed once a <see cref="ConnectionHealthOptions.PoolReplicaRefresh"/>, so that a failover on this silo can
/// still choose a target while the pool grain's silo is dead but not yet declared so. Reentrant: a refresh stuck on that
/// silo must not hold up the picks that exist for exactly that case. Picks are counted against the copy's loads until
/// the next refresh, so a burst of provisional picks spreads like the pool's own would; the pool reconciles them
/// (ConfirmSignedOn, <see cref="ServerAssignment.OverCapacity"/>) and a later refresh replaces the counts.
/// </summary>
[StatelessWorker(1), Reentrant]
public sealed partial class ServerPoolReplicaGrain(IOptions<ConnectionHealthOptions> options, ILogger<ServerPoolReplicaGrain> logger)
    : Grain, IServerPoolReplicaGrain
{
    private readonly Dictionary<string, int> _picked = new(StringComparer.Ordinal);
    private ServerPoolSnapshot? _snapshot;
    private Task? _refreshing;

    private string PoolId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var period = options.Value.PoolReplicaRefresh;
        // KeepAlive: a replica that is collected while nothing fails would be cold when something does.
        this.RegisterGrainTimer(_ => RefreshAsync(), new GrainTimerCreationOptions(period, period) { KeepAlive = true, Interleave = true });
        _ = RefreshAsync();
        return Task.CompletedTask;
    }

    public async Task Warm()
    {
        if (_snapshot is null && _refreshing is { } refreshing)
            await refreshing;
    }

    public Task<ServerAssignment?> PickFailoverTarget(FailoverTargetRequest request)
    {
        if (_snapshot is not { } snapshot)
            return Task.FromResult<ServerAssignment?>(null);
        var (servers, load, ejected) = View(snapshot);
        var excluded = request.Excluded.IsDefault ? [] : request.Excluded;
        var target = ServerSelection.PickFailoverTarget(servers, load, request.CurrentServerId, request.PreferredTarget, ejected, excluded);
        if (target is null)
            return Task.FromResult<ServerAssignment?>(null);
        _picked[target.ServerId] = _picked.GetValueOrDefault(target.ServerId) + 1;
        load[target.ServerId] = ServerSelection.LoadOf(target.ServerId, load) + 1;
        var next = ServerSelection.PickFailoverTarget(servers, load, target.ServerId, null, ejected)?.ServerId;
        LogProvisionalPick(PoolId, request.ConnectionId, target.ServerId);
        return Task.FromResult<ServerAssignment?>(new ServerAssignment(PoolId, target.ServerId, target.Address, target.Zone, next, Provisional: true));
    }

    public Task<ServerAssignment?> FindServer(string address)
    {
        var server = _snapshot?.Servers.FirstOrDefault(s => string.Equals(s.Address, address, StringComparison.OrdinalIgnoreCase));
        return Task.FromResult(server is null ? null : new ServerAssignment(PoolId, server.ServerId, server.Address, server.Zone, null, Provisional: true));
    }

    private (Dictionary<string, ServerDefinition> Servers, Dictionary<string, int> Load, HashSet<string> Ejected) View(ServerPoolSnapshot snapshot)
    {
        var servers = snapshot.Servers.ToDictionary(s => s.ServerId, s => new ServerDefinition(s.ServerId, s.Address, s.Zone, s.Capacity, s.Health), StringComparer.Ordinal);
        var load = snapshot.Servers.ToDictionary(s => s.ServerId, s => s.Load + _picked.GetValueOrDefault(s.ServerId), StringComparer.Ordinal);
        var ejected = snapshot.Servers.Where(s => s.Suspect).Select(s => s.ServerId).ToHashSet(StringComparer.Ordinal);
        return (servers, load, ejected);
    }

    /// <summary>One refresh at a time; a failed or late one keeps the copy it had (stale beats none in the death window).</summary>
    private Task RefreshAsync()
    {
        if (_refreshing is not { IsCompleted: false })
            _refreshing = FetchAsync();
        return _refreshing;
    }

    private async Task FetchAsync()
    {
        try
        {
            var snapshot = await GrainFactory.GetGrain<IServerPoolGrain>(PoolId).GetSnapshot().WaitAsync(options.Value.PoolReplicaRefresh * 5);
            _snapshot = snapshot;
            _picked.Clear();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRefreshFailed(PoolId, ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {PoolId} replica: provisional failover target for {ConnectionId}: {ServerId} (the pool grain did not answer in time)")]
    private partial void LogProvisionalPick(string poolId, string connectionId, string serverId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pool {PoolId} replica: refresh failed ({Kind}: {Detail}); keeping the last copy")]
    private partial void LogRefreshFailed(string poolId, string kind, string detail);
}
