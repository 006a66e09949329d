using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Services;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Regions;

/// <summary>
/// The receiving side of SyncState. Each entry is owned by one region (its <c>region</c> field): for entries this
/// region owns, the local connection grain is authoritative and is returned when it is another registration or a higher
/// version; entries the peer owns go to their <see cref="IPeerReplicaGrain"/>, which keeps the newer
/// (<see cref="ConnectionIncarnation"/>: a later registration whatever its version, else the higher version). One
/// exchange in each direction converges both registries, also after the owner restarted on memory and counts again
/// from version 1. The local pools' reservations then follow the peer's entries
/// (<see cref="IServerPoolGrain.ReconcileAssignments"/>): a server's load is what the connections of both regions hold
/// there, whatever was replayed, moved in the peer's mirror or forgotten by a restart.
/// </summary>
internal sealed partial class RegistrySync(IClusterClient cluster, IOptions<GatewayOptions> options, ILogger<RegistrySync> logger)
{
    private long _received;
    private long _repaired;

    /// <summary>Peer entries SyncState has brought since start.</summary>
    public long EntriesReceived => Interlocked.Read(ref _received);

    /// <summary>
    /// Of those, the ones that changed a replica: what neither an earlier sync nor the bus had brought. With the bus up,
    /// a sync after a cut of the gRPC link finds nothing to repair.
    /// </summary>
    public long EntriesRepaired => Interlocked.Read(ref _repaired);

    public async Task<SyncStateResponse> ApplyAsync(string sourceRegion, IEnumerable<Connection> entries, CancellationToken cancellationToken)
    {
        var response = await ApplyEntriesAsync(sourceRegion, entries, cancellationToken);
        if (response.Applied > 0) LogRepaired(sourceRegion, response.Applied);
        return response;
    }

    private async Task<SyncStateResponse> ApplyEntriesAsync(string sourceRegion, IEnumerable<Connection> entries, CancellationToken cancellationToken)
    {
        var region = options.Value.Region;
        var response = new SyncStateResponse();
        var held = new Dictionary<string, List<AssignmentFact>>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var owner = entry.Region.Length == 0 ? sourceRegion : entry.Region;
            if (owner == region)
            {
                try
                {
                    // We own it: our grain is the truth. A copy of another registration of ours (we restarted on
                    // memory since) is answered with the current one whatever the versions say.
                    var local = await cluster.GetGrain<IConnectionGrain>(entry.ConnectionId).GetState();
                    if (ConnectionIncarnation.Differ(local.Incarnation, NullIfEmpty(entry.Incarnation)) || local.Version > entry.Version)
                        response.Newer.Add(local.ToProto(region));
                    else response.Unchanged++;
                }
                catch (ConnectionNotFoundException)
                {
                    // The peer replicates something we do not own (any more); nothing to reconcile here.
                    response.Unchanged++;
                }
                continue;
            }

            if (entry.Region.Length == 0) entry.Region = owner;
            Interlocked.Increment(ref _received);
            var result = await cluster.GetGrain<IPeerReplicaGrain>(entry.ConnectionId).Apply(entry.Version, entry.ToByteArray(), entry.ToSummary());
            var current = entry;
            switch (result.Outcome)
            {
                case ReplicaApplyOutcome.Applied: response.Applied++; Interlocked.Increment(ref _repaired); break;
                case ReplicaApplyOutcome.Unchanged: response.Unchanged++; break;
                case ReplicaApplyOutcome.Newer: response.Newer.Add(current = result.Current!.ToProto()); break;
            }
            if (current.ServerPool.Length == 0) continue;
            if (!held.TryGetValue(current.ServerPool, out var facts)) held[current.ServerPool] = facts = [];
            facts.Add(AssignmentFact.Of(current.ConnectionId, current.Status.FromProto(), current.ServerId, current.FailoverTarget));
        }
        foreach (var (pool, facts) in held)
        {
            await cluster.GetGrain<IServerPoolGrain>(pool).ReconcileAssignments([.. facts]);
        }
        return response;
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    [LoggerMessage(Level = LogLevel.Information, Message = "SyncState from region {Region} changed {Count} replicas (not brought by an earlier sync or the bus)")]
    private partial void LogRepaired(string region, int count);
}
