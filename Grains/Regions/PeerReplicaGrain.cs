using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Regions;

[GenerateSerializer, Alias("oc.gw.PeerReplicaState")]
public sealed class PeerReplicaState
{
    [Id(0)] public long Version { get; set; }
    [Id(1)] public byte[]? Entry { get; set; }
}

/// <inheritdoc cref="IPeerReplicaGrain"/>
internal sealed class PeerReplicaGrain([PersistentState("peerReplica", ControllerStorage.Name)] IPersistentState<PeerReplicaState> state)
    : Grain, IPeerReplicaGrain
{
    public async Task<ReplicaApplyResult> Apply(long version, byte[] entry, ConnectionSummary row)
    {
        var s = state.State;
        if (s.Entry is not null && s.Version > version) return new(ReplicaApplyOutcome.Newer, new(s.Version, s.Entry));
        // Listed on every sync, changed or not: the index is soft state and refills from these calls.
        var index = GrainFactory.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey);
        if (s.Entry is not null && s.Version == version)
        {
            await index.Upsert(row with { Replica = true });
            return new(ReplicaApplyOutcome.Unchanged, null);
        }
        s.Version = version;
        s.Entry = entry;
        await state.WriteStateAsync();
        await index.Upsert(row with { Replica = true });
        return new(ReplicaApplyOutcome.Applied, null);
    }

    public Task<ReplicaEntry?> Get() =>
        Task.FromResult(state.State.Entry is null ? null : new ReplicaEntry(state.State.Version, state.State.Entry));
}
