using OrleansControl.GrainInterfaces;

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
    public async Task<ReplicaApplyResult> Apply(long version, byte[] entry)
    {
        var s = state.State;
        if (s.Entry is not null && s.Version > version) return new(ReplicaApplyOutcome.Newer, new(s.Version, s.Entry));
        if (s.Entry is not null && s.Version == version) return new(ReplicaApplyOutcome.Unchanged, null);
        s.Version = version;
        s.Entry = entry;
        await state.WriteStateAsync();
        return new(ReplicaApplyOutcome.Applied, null);
    }

    public Task<ReplicaEntry?> Get() =>
        Task.FromResult(state.State.Entry is null ? null : new ReplicaEntry(state.State.Version, state.State.Entry));
}
