using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Regions;

/// <summary>
/// The other region's copy of a connection when its owner restarted on memory and registered it again from version 1:
/// the new registration's incarnation wins whatever its version, and a late message of the old one does not roll the
/// copy back.
/// </summary>
[Collection(SingleSiloCollection.Name)]
public sealed class PeerReplicaIncarnationTests(SingleSiloFixture fixture)
{
    private static readonly DateTimeOffset FirstRegistration = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Entry = [1, 2, 3];

    private IGrainFactory Grains => fixture.Client;

    private static ConnectionSummary Row(string id, string? incarnation, long version, ConnectionStatus status, string server) =>
        new(id, "bank-1", "visa", server, status, 100, null, version, null, DateTimeOffset.UtcNow, $"{server}:5000", "sc-1", "bank-eu",
            Incarnation: incarnation);

    private static ConnectionStatusChanged Event(string id, string? incarnation, long version, ConnectionStatus to, string server) =>
        new(id, "bank-1", server, ConnectionStatus.Requested, to, version, 100, null, "test", DateTimeOffset.UtcNow, "sc-1", "bank-eu",
            $"{server}:5000", "visa", Incarnation: incarnation);

    [Fact]
    public void Incarnations_order_by_registration_time_and_differ_at_the_same_tick()
    {
        var first = ConnectionIncarnation.New(FirstRegistration);
        var later = ConnectionIncarnation.New(FirstRegistration.AddTicks(1));
        var twin = ConnectionIncarnation.New(FirstRegistration);

        Assert.True(ConnectionIncarnation.Compare(later, 1, first, 7) > 0);
        Assert.True(ConnectionIncarnation.Compare(first, 8, later, 1) < 0);
        Assert.NotEqual(first, twin);
        Assert.NotEqual(0, ConnectionIncarnation.Compare(twin, 3, first, 3));
        Assert.Equal(-ConnectionIncarnation.Compare(twin, 3, first, 3), ConnectionIncarnation.Compare(first, 3, twin, 3));
        // Within one registration, and whenever one side has none (stored before incarnations), versions decide.
        Assert.True(ConnectionIncarnation.Compare(first, 8, first, 7) > 0);
        Assert.Equal(0, ConnectionIncarnation.Compare(first, 7, first, 7));
        Assert.True(ConnectionIncarnation.Compare(later, 2, null, 7) < 0);
        Assert.True(ConnectionIncarnation.Compare(null, 8, first, 7) > 0);
    }

    [Fact]
    public async Task A_copy_follows_a_new_registration_from_version_1_and_ignores_the_old_ones_late_messages()
    {
        var id = Scenario.NewId("conn");
        var replica = Grains.GetGrain<IPeerReplicaGrain>(id);
        var old = ConnectionIncarnation.New(FirstRegistration);
        Assert.Equal(ReplicaApplyOutcome.Applied, (await replica.Apply(7, Entry, Row(id, old, 7, ConnectionStatus.Active, "visa-1"))).Outcome);

        // The owner restarted on memory: the same id registered again, version 1 of a later incarnation, then active.
        var fresh = ConnectionIncarnation.New(FirstRegistration.AddMinutes(5));
        // The bus brings it first: the old registration's full entry (v7, its metadata) is no longer laid under the row.
        Assert.Equal(ReplicaApplyOutcome.Applied, await replica.ApplyEvent(Event(id, fresh, 1, ConnectionStatus.Requested, "visa-2")));
        Assert.Null((await replica.Get())!.Entry);
        Assert.Equal(ReplicaApplyOutcome.Unchanged, (await replica.Apply(1, Entry, Row(id, fresh, 1, ConnectionStatus.Requested, "visa-2"))).Outcome);
        Assert.NotNull((await replica.Get())!.Entry);
        Assert.Equal(ReplicaApplyOutcome.Applied, await replica.ApplyEvent(Event(id, fresh, 2, ConnectionStatus.Active, "visa-2")));

        // The old registration's messages arrive late, at higher versions: a delayed push and a redelivered event.
        var late = await replica.Apply(8, Entry, Row(id, old, 8, ConnectionStatus.Active, "visa-1"));
        Assert.Equal(ReplicaApplyOutcome.Newer, late.Outcome);
        Assert.Equal((2L, fresh), (late.Current!.Version, late.Current.Row!.Incarnation));
        Assert.Equal(ReplicaApplyOutcome.Newer, await replica.ApplyEvent(Event(id, old, 9, ConnectionStatus.Degraded, "visa-1")));

        var copy = (await replica.Get())!;
        Assert.Equal((2L, fresh, ConnectionStatus.Active, "visa-2"), (copy.Version, copy.Row!.Incarnation, copy.Row.Status, copy.Row.ServerId));

        // The listing shows the new registration too, not the old one's higher version.
        var listed = await Grains.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey).List(new ConnectionQuery(Replicas: true, PageSize: 1000));
        var row = Assert.Single(listed.Items, r => r.ConnectionId == id);
        Assert.Equal((2L, fresh, ConnectionStatus.Active, "visa-2"), (row.Version, row.Incarnation, row.Status, row.ServerId));
    }

    [Fact]
    public async Task A_copy_stored_without_an_incarnation_is_decided_by_versions_as_before()
    {
        var id = Scenario.NewId("conn");
        var replica = Grains.GetGrain<IPeerReplicaGrain>(id);
        Assert.Equal(ReplicaApplyOutcome.Applied, (await replica.Apply(7, Entry, Row(id, null, 7, ConnectionStatus.Active, "visa-1"))).Outcome);
        var incarnation = ConnectionIncarnation.New(FirstRegistration);

        Assert.Equal(ReplicaApplyOutcome.Newer, await replica.ApplyEvent(Event(id, incarnation, 6, ConnectionStatus.Degraded, "visa-1")));
        // The same version with an incarnation: unchanged, and the copy learns which registration it belongs to.
        Assert.Equal(ReplicaApplyOutcome.Unchanged, (await replica.Apply(7, Entry, Row(id, incarnation, 7, ConnectionStatus.Active, "visa-1"))).Outcome);
        Assert.Equal(incarnation, (await replica.Get())!.Row!.Incarnation);
        Assert.Equal(ReplicaApplyOutcome.Applied, await replica.ApplyEvent(Event(id, incarnation, 8, ConnectionStatus.Degraded, "visa-1")));
    }

    [Fact]
    public async Task A_registration_draws_an_incarnation_that_its_transitions_and_events_keep()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var registered = await connection.GetState();
        Assert.False(string.IsNullOrEmpty(registered.Incarnation));
        var moved = await connection.TransitionTo(ConnectionStatus.Degraded, registered.Version, "test");
        Assert.Equal(registered.Incarnation, moved.Incarnation);
        Assert.True(moved.Version > registered.Version);
        // Registering again (the sidecar's retry) is the same registration.
        var again = await connection.Register(new ConnectionRegistration(registered.ClientId, poolId, null, SidecarId: registered.SidecarId));
        Assert.Equal(registered.Incarnation, again.Incarnation);
    }
}
