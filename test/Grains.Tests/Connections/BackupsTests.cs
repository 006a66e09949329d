using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Connections;

/// <summary>The sidecar's ranked backups, and the move it makes on its own with them.</summary>
[Collection(SingleSiloCollection.Name)]
public sealed class BackupsTests(SingleSiloFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task An_active_connection_gets_its_ranked_backups_and_fresh_ones_when_the_pool_changes()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var outbox = Grains.GetGrain<ISidecarOutboxGrain>((await connection.GetState()).SidecarId!);

        var first = Assert.Single(await BackupsAsync(outbox));
        // Another zone first, never the current server.
        Assert.Equal(["s-b1", "s-a2"], first.Backups.Select(b => b.ServerId));

        await Grains.GetGrain<IServerPoolGrain>(poolId).SetServerHealth("s-b1", ServerHealth.Degraded);
        var fresh = await TestSettings.EventuallyAsync(() => BackupsAsync(outbox), b => b.Length == 1 && b[0].CommandId != first.CommandId,
            TimeSpan.FromSeconds(5));
        // The older list, still unacknowledged, was replaced rather than queued behind.
        Assert.Equal(["s-a2"], Assert.Single(fresh).Backups.Select(b => b.ServerId));
    }

    [Fact]
    public async Task A_move_the_sidecar_made_on_its_own_is_followed_and_kept_in_the_history()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");

        var state = await connection.ReportLink(new LinkObservation(ObservedLinkState.SignedOn, Scenario.Address("s-b1"), "moved to a backup",
            MovedFrom: Scenario.Address("s-a1")));

        Assert.Equal((ConnectionStatus.Active, "s-b1"), (state.Status, state.ServerId));
        var record = Assert.Single(state.RecentFailovers);
        Assert.Equal(("s-a1", "s-b1", FailoverOutcome.Moved, "sidecar-initiated"), (record.FromServerId, record.ToServerId, record.Outcome, record.Detail));
        // Its backups are ranked again from where it is now: the server it left is one of them, the one it is on is not.
        var backups = await TestSettings.EventuallyAsync(() => BackupsAsync(Grains.GetGrain<ISidecarOutboxGrain>(state.SidecarId!)),
            b => b.Any(c => c.Backups.All(x => x.ServerId != "s-b1")), TimeSpan.FromSeconds(5));
        Assert.Contains("s-a1", backups[^1].Backups.Select(x => x.ServerId));
        Assert.DoesNotContain("s-b1", backups[^1].Backups.Select(x => x.ServerId));
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal((0, 1), (pool.Servers.Single(s => s.ServerId == "s-a1").Load, pool.Servers.Single(s => s.ServerId == "s-b1").Load));
    }

    private static async Task<SidecarCommand[]> BackupsAsync(ISidecarOutboxGrain outbox) =>
        (await outbox.GetPending()).Select(p => p.Command).Where(c => c.Kind == SidecarCommandKind.Backups).ToArray();
}
