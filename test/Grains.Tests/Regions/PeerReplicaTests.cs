using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Regions;

/// <summary>
/// A replica fed two ways, the bus (ApplyEvent) and SyncState (Apply): the owner's version decides, so whichever brings
/// a version first applies it and the other finds it unchanged; nothing older ever replaces something newer.
/// </summary>
[Collection(SingleSiloCollection.Name)]
public sealed class PeerReplicaTests(SingleSiloFixture fixture)
{
    private static ConnectionStatusChanged Change(string id, long version, ConnectionStatus to, string? target) =>
        new(id, "acquirer-1", "visa-2", ConnectionStatus.Active, to, version, 90, target, "test", DateTimeOffset.UtcNow,
            "sidecar-1", "bank-eu", "visa-2.example:5000", "visa", "detail v" + version);

    private static ConnectionSummary Row(string id, long version, ConnectionStatus status) =>
        new(id, "acquirer-1", "visa", "visa-2", status, 90, null, version, null, DateTimeOffset.UtcNow, Region: "bank-eu");

    [Fact]
    public async Task The_bus_and_SyncState_never_replace_a_newer_copy_and_repeat_nothing()
    {
        var id = $"conn-{Guid.NewGuid():N}";
        var replica = fixture.Client.GetGrain<IPeerReplicaGrain>(id);

        // The bus brings v2 first (the replica did not exist): listed at once, with the pool the event names.
        Assert.Equal(ReplicaApplyOutcome.Applied, await replica.ApplyEvent(Change(id, 2, ConnectionStatus.Migrating, "visa-1")));
        var listed = await fixture.Client.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey).List(new ConnectionQuery(ClientId: "acquirer-1", PageSize: 500));
        var row = Assert.Single(listed.Items, r => r.ConnectionId == id);
        Assert.Equal((ConnectionStatus.Migrating, "visa", true, 2L), (row.Status, row.ServerPool, row.Replica, row.Version));

        // SyncState with the same version finds it unchanged; with an older one it is told the replica is newer.
        Assert.Equal(ReplicaApplyOutcome.Unchanged, (await replica.Apply(2, [1, 2, 3], Row(id, 2, ConnectionStatus.Migrating))).Outcome);
        var older = await replica.Apply(1, [9], Row(id, 1, ConnectionStatus.Active));
        Assert.Equal((ReplicaApplyOutcome.Newer, 2L), (older.Outcome, older.Current!.Version));

        // The bus repeating itself or arriving late changes nothing; a newer event does.
        Assert.Equal(ReplicaApplyOutcome.Unchanged, await replica.ApplyEvent(Change(id, 2, ConnectionStatus.Migrating, "visa-1")));
        Assert.Equal(ReplicaApplyOutcome.Newer, await replica.ApplyEvent(Change(id, 1, ConnectionStatus.Active, null)));
        Assert.Equal(ReplicaApplyOutcome.Applied, await replica.ApplyEvent(Change(id, 3, ConnectionStatus.Active, null)));

        var current = (await replica.Get())!;
        Assert.Equal((3L, ConnectionStatus.Active, "detail v3"), (current.Version, current.Row!.Status, current.Row.StatusDetail));
        Assert.Equal([1, 2, 3], current.Entry); // SyncState's full entry (v2) stays for what events do not carry
    }
}
