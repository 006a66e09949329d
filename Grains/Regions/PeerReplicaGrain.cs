using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;

namespace OrleansControl.Grains.Regions;

[GenerateSerializer, Alias("oc.gw.PeerReplicaState")]
public sealed class PeerReplicaState
{
    [Id(0)] public long Version { get; set; }
    /// <summary>The last full entry from SyncState (its version may be below <see cref="Version"/>).</summary>
    [Id(1)] public byte[]? Entry { get; set; }
    /// <summary>The current copy as a listing row, from either way (null in state written before the bus fed replicas).</summary>
    [Id(2)] public ConnectionSummary? Row { get; set; }
}

/// <inheritdoc cref="IPeerReplicaGrain"/>
internal sealed class PeerReplicaGrain([PersistentState("peerReplica", ControllerStorage.Name)] IPersistentState<PeerReplicaState> state)
    : Grain, IPeerReplicaGrain
{
    private PeerReplicaState S => state.State;

    private bool Holds => S.Entry is not null || S.Row is not null;

    private IConnectionIndexGrain Index => GrainFactory.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey);

    public async Task<ReplicaApplyResult> Apply(long version, byte[] entry, ConnectionSummary row)
    {
        if (Holds && S.Version > version) return new(ReplicaApplyOutcome.Newer, Current());
        if (Holds && S.Version == version)
        {
            if (S.Entry is null)
            {
                // The bus brought this version first; the full entry adds what events do not carry (metadata).
                S.Entry = entry;
                await state.WriteStateAsync();
            }
            // Listed on every sync, changed or not: the index is soft state and refills from these calls.
            await Index.Upsert((S.Row ?? row) with { Replica = true });
            return new(ReplicaApplyOutcome.Unchanged, null);
        }
        S.Version = version;
        S.Entry = entry;
        S.Row = row with { Replica = true };
        await state.WriteStateAsync();
        await Index.Upsert(S.Row);
        return new(ReplicaApplyOutcome.Applied, null);
    }

    public async Task<ReplicaApplyOutcome> ApplyEvent(ConnectionStatusChanged change)
    {
        if (Holds && S.Version >= change.Version)
            return S.Version > change.Version ? ReplicaApplyOutcome.Newer : ReplicaApplyOutcome.Unchanged;
        var before = S.Row;
        S.Version = change.Version;
        S.Row = new ConnectionSummary(change.ConnectionId, change.ClientId, change.ServerPool ?? before?.ServerPool ?? "", change.ServerId,
            change.To, change.HealthScore, change.FailoverTarget, change.Version, before?.LastHeartbeat, change.At, change.ServerAddress,
            change.SidecarId, change.Region, change.StatusDetail ?? "", Replica: true);
        await state.WriteStateAsync();
        await Index.Upsert(S.Row);
        return ReplicaApplyOutcome.Applied;
    }

    public Task<ReplicaEntry?> Get() => Task.FromResult(Holds ? Current() : null);

    private ReplicaEntry Current() => new(S.Version, S.Entry, S.Row);
}
