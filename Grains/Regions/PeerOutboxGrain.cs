using OrleansControl.GrainInterfaces;

namespace OrleansControl.Grains.Regions;

[GenerateSerializer, Alias("oc.gw.PeerOutboxState")]
public sealed class PeerOutboxState
{
    [Id(0)] public List<PeerNotice> Notices { get; set; } = [];
    [Id(1)] public long NextSequence { get; set; } = 1;
}

/// <inheritdoc cref="IPeerOutboxGrain"/>
internal sealed class PeerOutboxGrain([PersistentState("peerOutbox", ControllerStorage.Name)] IPersistentState<PeerOutboxState> state)
    : Grain, IPeerOutboxGrain
{
    public async Task Enqueue(PeerNotice notice)
    {
        state.State.Notices.RemoveAll(n => n.Key == notice.Key);
        state.State.Notices.Add(notice with { Sequence = state.State.NextSequence++ });
        await state.WriteStateAsync();
    }

    public Task<PeerNotice[]> Peek(int max) => Task.FromResult(state.State.Notices.Take(max).ToArray());

    public async Task Remove(string key, long sequence)
    {
        if (state.State.Notices.RemoveAll(n => n.Key == key && n.Sequence == sequence) > 0) await state.WriteStateAsync();
    }
}
