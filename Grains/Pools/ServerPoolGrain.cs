using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Pools;

/// <summary>
/// Not reentrant on purpose: each Assign/PickFailoverTarget checks capacity, reserves and persists in one turn, so
/// concurrent requests are serialised and a server is never assigned beyond its capacity. Only GetSnapshot
/// interleaves (read-only).
/// </summary>
public sealed class ServerPoolGrain(
    [PersistentState("pool", ControllerStorage.Name)] IPersistentState<ServerPoolState> state,
    ILogger<ServerPoolGrain> logger) : Grain, IServerPoolGrain
{
    private readonly Dictionary<string, int> _load = [];

    private string PoolId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _load.Clear();
        foreach (var serverId in state.State.Assignments.Values)
            _load[serverId] = ServerSelection.LoadOf(serverId, _load) + 1;
        return Task.CompletedTask;
    }

    public async Task<ServerInstance> AddOrUpdateServer(ServerDefinition server)
    {
        if (string.IsNullOrWhiteSpace(server.ServerId)) throw new InvalidRequestException("server_id", "must not be empty");
        if (string.IsNullOrWhiteSpace(server.Address)) throw new InvalidRequestException("address", "must not be empty");
        if (server.Capacity < 0) throw new InvalidRequestException("capacity", "must not be negative");

        state.State.Servers.TryGetValue(server.ServerId, out var previous);
        state.State.Servers[server.ServerId] = server with { Zone = server.Zone ?? "" };
        await PersistOrRevert(() => Restore(server.ServerId, previous));
        Log.ServerUpdated(logger, PoolId, server.ServerId, server.Health, server.Zone ?? "", server.Capacity);
        return ToInstance(state.State.Servers[server.ServerId]);
    }

    public async Task<ServerInstance> SetServerHealth(string serverId, ServerHealth health)
    {
        var previous = Find(serverId);
        state.State.Servers[serverId] = previous with { Health = health };
        await PersistOrRevert(() => Restore(serverId, previous));
        Log.ServerUpdated(logger, PoolId, serverId, health, previous.Zone, previous.Capacity);
        if (health == ServerHealth.Unhealthy && previous.Health != ServerHealth.Unhealthy)
            Evacuate(serverId, $"server {serverId} unhealthy");
        return ToInstance(state.State.Servers[serverId]);
    }

    public async Task RemoveServer(string serverId)
    {
        var previous = Find(serverId);
        state.State.Servers.Remove(serverId);
        await PersistOrRevert(() => Restore(serverId, previous));
        Log.ServerRemoved(logger, PoolId, serverId);
        Evacuate(serverId, $"server {serverId} removed");
    }

    /// <summary>
    /// Asks every connection on the server to fail over (conditional on that server, so connections that already
    /// moved ignore it). Not awaited: each connection calls back into this pool for its target, which would
    /// deadlock a non-reentrant grain waiting on it; failures are logged.
    /// </summary>
    private void Evacuate(string serverId, string reason)
    {
        var key = $"evacuate:{serverId}:{DateTimeOffset.UtcNow.UtcTicks}";
        foreach (var connectionId in state.State.Assignments.Where(a => a.Value == serverId).Select(a => a.Key).ToList())
        {
            var request = new FailoverRequest(reason, key, FailedServerId: serverId);
            _ = GrainFactory.GetGrain<IConnectionGrain>(connectionId).RequestFailover(request).ContinueWith(
                t => Log.EvacuationFailed(logger, t.Exception!.GetBaseException(), PoolId, connectionId),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Current);
        }
    }

    public async Task<ServerAssignment> Assign(AssignmentRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.ConnectionId)) throw new InvalidRequestException("connection_id", "must not be empty");

        if (state.State.Assignments.TryGetValue(request.ConnectionId, out var existing)
            && state.State.Servers.TryGetValue(existing, out var assigned))
            return ToAssignment(assigned);

        var server = ServerSelection.PickForAssignment(state.State.Servers, _load, request.PreferredServer)
            ?? throw new PoolCapacityExceededException(PoolId, HealthyCapacity(), _load.Values.Sum());

        var undo = Reserve(request.ConnectionId, server.ServerId);
        await PersistOrRevert(undo);
        return ToAssignment(server);
    }

    public async Task Release(string connectionId)
    {
        if (!state.State.Assignments.TryGetValue(connectionId, out var serverId))
            return;
        Unreserve(connectionId, serverId);
        await PersistOrRevert(() => Reserve(connectionId, serverId));
    }

    public async Task<ServerAssignment?> PickFailoverTarget(string connectionId, string? currentServerId, string? preferredTarget = null)
    {
        // A retry after a crash between our reservation and the connection's own write finds the move already made.
        if (state.State.Assignments.TryGetValue(connectionId, out var reserved) && reserved != currentServerId
            && state.State.Servers.TryGetValue(reserved, out var already) && already.Health == ServerHealth.Healthy)
            return ToAssignment(already);

        var target = ServerSelection.PickFailoverTarget(state.State.Servers, _load, currentServerId, preferredTarget);
        if (target is null)
            return null;

        var previous = state.State.Assignments.GetValueOrDefault(connectionId);
        if (previous is not null)
            Unreserve(connectionId, previous);
        Reserve(connectionId, target.ServerId);
        await PersistOrRevert(() =>
        {
            Unreserve(connectionId, target.ServerId);
            if (previous is not null) Reserve(connectionId, previous);
        });
        return ToAssignment(target);
    }

    public Task<ServerPoolSnapshot> GetSnapshot()
    {
        var servers = state.State.Servers.Values.OrderBy(s => s.ServerId, StringComparer.Ordinal).Select(ToInstance).ToImmutableArray();
        return Task.FromResult(new ServerPoolSnapshot(PoolId, servers, servers.Sum(s => s.Capacity), servers.Sum(s => s.Load)));
    }

    private Action Reserve(string connectionId, string serverId)
    {
        state.State.Assignments[connectionId] = serverId;
        _load[serverId] = ServerSelection.LoadOf(serverId, _load) + 1;
        return () => Unreserve(connectionId, serverId);
    }

    private void Unreserve(string connectionId, string serverId)
    {
        state.State.Assignments.Remove(connectionId);
        _load[serverId] = Math.Max(0, ServerSelection.LoadOf(serverId, _load) - 1);
    }

    private void Restore(string serverId, ServerDefinition? previous)
    {
        if (previous is null) state.State.Servers.Remove(serverId);
        else state.State.Servers[serverId] = previous;
    }

    /// <summary>Persist-before-ack; on a storage error the in-memory change is undone so memory never runs ahead of storage.</summary>
    private async Task PersistOrRevert(Action undo)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            undo();
            throw;
        }
    }

    private ServerDefinition Find(string serverId) =>
        state.State.Servers.TryGetValue(serverId, out var s) ? s : throw new ServerNotFoundException(PoolId, serverId);

    private int HealthyCapacity() =>
        state.State.Servers.Values.Where(s => s.Health == ServerHealth.Healthy).Sum(s => s.Capacity);

    private ServerInstance ToInstance(ServerDefinition s) =>
        new(s.ServerId, s.Address, s.Zone, s.Capacity, ServerSelection.LoadOf(s.ServerId, _load), s.Health);

    private ServerAssignment ToAssignment(ServerDefinition s) =>
        new(PoolId, s.ServerId, s.Address, s.Zone,
            ServerSelection.PickFailoverTarget(state.State.Servers, _load, s.ServerId, null)?.ServerId);
}
