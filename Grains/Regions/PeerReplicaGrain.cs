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
    /// <summary>The owner's registration the copy belongs to (null: written before incarnations, or sent without one).</summary>
    [Id(3)] public string? Incarnation { get; set; }
}

/// <inheritdoc cref="IPeerReplicaGrain"/>
internal sealed class PeerReplicaGrain([PersistentState("peerReplica", ControllerStorage.Name)] IPersistentState<PeerReplicaState> state)
    : Grain, IPeerReplicaGrain
{
    private PeerReplicaState S => state.State;

    private bool Holds => S.Entry is not null || S.Row is not null;

    private IConnectionIndexGrain Index => GrainFactory.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey);

    /// <summary>How an entry of the owner compares with the copy (see <see cref="ConnectionIncarnation"/>): above zero, newer.</summary>
    private int Compare(string? incarnation, long version) =>
        Holds ? ConnectionIncarnation.Compare(incarnation, version, S.Incarnation, S.Version) : 1;

    public async Task<ReplicaApplyResult> Apply(long version, byte[] entry, ConnectionSummary row)
    {
        var order = Compare(row.Incarnation, version);
        if (order < 0) return new(ReplicaApplyOutcome.Newer, Current());
        if (order == 0)
        {
            if (S.Entry is null || (S.Incarnation is null && row.Incarnation is not null))
            {
                // The bus brought this version first; the full entry adds what events do not carry (metadata). A copy
                // stored before incarnations learns the one its entry belongs to.
                S.Entry = entry;
                S.Incarnation ??= row.Incarnation;
                if (S.Row is not null) S.Row = S.Row with { Incarnation = S.Incarnation };
                await state.WriteStateAsync();
            }
            // Listed on every sync, changed or not: the index is soft state and refills from these calls.
            await Index.Upsert((S.Row ?? row) with { Replica = true });
            return new(ReplicaApplyOutcome.Unchanged, null);
        }
        S.Version = version;
        S.Incarnation = row.Incarnation;
        S.Entry = entry;
        S.Row = row with { Replica = true };
        await state.WriteStateAsync();
        await Index.Upsert(S.Row);
        return new(ReplicaApplyOutcome.Applied, null);
    }

    public async Task<ReplicaApplyOutcome> ApplyEvent(ConnectionStatusChanged change)
    {
        var order = Compare(change.Incarnation, change.Version);
        if (order <= 0)
            return order < 0 ? ReplicaApplyOutcome.Newer : ReplicaApplyOutcome.Unchanged;
        var before = S.Row;
        if (ConnectionIncarnation.Differ(change.Incarnation, S.Incarnation))
        {
            // A new registration: nothing of the old one's full entry (its metadata, its higher version) or its last
            // heartbeat is true of it.
            S.Entry = null;
            before = null;
        }
        S.Version = change.Version;
        S.Incarnation = change.Incarnation;
        S.Row = new ConnectionSummary(change.ConnectionId, change.ClientId, change.ServerPool ?? before?.ServerPool ?? "", change.ServerId,
            change.To, change.HealthScore, change.FailoverTarget, change.Version, before?.LastHeartbeat, change.At, change.ServerAddress,
            change.SidecarId, change.Region, change.StatusDetail ?? "", Replica: true, Incarnation: S.Incarnation);
        await state.WriteStateAsync();
        await Index.Upsert(S.Row);
        return ReplicaApplyOutcome.Applied;
    }

    public Task<ReplicaEntry?> Get() => Task.FromResult(Holds ? Current() : null);

    private ReplicaEntry Current() => new(S.Version, S.Entry, S.Row);
}
