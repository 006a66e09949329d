namespace OrleansControl.Gateway.Regions;

/// <summary>
/// What this region must still tell the peer region (key: peer region), persisted so a gateway that dies while the
/// link is down loses nothing. Today: assignments made from the local mirror of the peer's pools.
/// </summary>
[Alias("oc.gw.IPeerOutboxGrain")]
public interface IPeerOutboxGrain : IGrainWithStringKey
{
    /// <summary>Queues a notice; a newer notice for the same connection replaces the older one.</summary>
    [Alias("Enqueue")]
    Task Enqueue(PeerAssignmentNotice notice);

    [Alias("Peek")]
    Task<PeerAssignmentNotice[]> Peek(int max);

    [Alias("Remove")]
    Task Remove(string connectionId);
}

[GenerateSerializer, Immutable, Alias("oc.gw.PeerAssignmentNotice")]
public sealed record PeerAssignmentNotice(
    [property: Id(0)] string Pool,
    [property: Id(1)] string ConnectionId,
    [property: Id(2)] string ClientId,
    [property: Id(3)] string? ServerId);

[GenerateSerializer, Alias("oc.gw.PeerOutboxState")]
public sealed class PeerOutboxState
{
    [Id(0)] public List<PeerAssignmentNotice> Notices { get; set; } = [];
}

/// <inheritdoc cref="IPeerOutboxGrain"/>
internal sealed class PeerOutboxGrain([PersistentState("peerOutbox", Hosting.GatewayStorage.Name)] IPersistentState<PeerOutboxState> state)
    : Grain, IPeerOutboxGrain
{
    public async Task Enqueue(PeerAssignmentNotice notice)
    {
        state.State.Notices.RemoveAll(n => n.ConnectionId == notice.ConnectionId);
        state.State.Notices.Add(notice);
        await state.WriteStateAsync();
    }

    public Task<PeerAssignmentNotice[]> Peek(int max) => Task.FromResult(state.State.Notices.Take(max).ToArray());

    public async Task Remove(string connectionId)
    {
        if (state.State.Notices.RemoveAll(n => n.ConnectionId == connectionId) > 0) await state.WriteStateAsync();
    }
}
