using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Index;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Connections;

/// <summary>The listing's rule for rows that outlived their grain's state (Redis lost or reloaded it).</summary>
[Collection(SingleSiloCollection.Name)]
public sealed class IndexStaleRowTests(SingleSiloFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private IConnectionIndexGrain Index => fixture.Client.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey);

    private static ConnectionSummary Row(string id, long version, int registered, int activated, int at) =>
        new(id, "bank", "pool", "s-a1", ConnectionStatus.Active, 100, null, version, null, T0.AddSeconds(at),
            RegisteredAt: T0.AddSeconds(registered), ActivatedAt: T0.AddSeconds(activated));

    [Fact]
    public void A_row_from_a_lost_registration_or_an_earlier_activation_never_wins_even_with_a_higher_version()
    {
        // Registered at 0 (v9 before the loss), registered again at 60 (v2): the old row is stale, both ways round.
        Assert.True(ConnectionIndexGrain.Supersedes(Row("c", 2, 60, 60, 61), Row("c", 9, 0, 0, 30)));
        Assert.False(ConnectionIndexGrain.Supersedes(Row("c", 9, 0, 0, 31), Row("c", 2, 60, 60, 61)));
        // Same registration reloaded by a later activation at an older stored version (its last write was lost).
        Assert.True(ConnectionIndexGrain.Supersedes(Row("c", 5, 60, 90, 90), Row("c", 7, 60, 60, 70)));
        Assert.False(ConnectionIndexGrain.Supersedes(Row("c", 7, 60, 60, 71), Row("c", 5, 60, 90, 90)));
        // Within one activation the higher version wins, then the later write.
        Assert.True(ConnectionIndexGrain.Supersedes(Row("c", 6, 60, 90, 91), Row("c", 5, 60, 90, 92)));
        Assert.False(ConnectionIndexGrain.Supersedes(Row("c", 5, 60, 90, 93), Row("c", 6, 60, 90, 91)));
        // Rows without those times (replicas, older silos) compare by version alone.
        Assert.False(ConnectionIndexGrain.Supersedes(Row("c", 5, 60, 90, 93) with { RegisteredAt = null, ActivatedAt = null }, Row("c", 6, 0, 0, 1)));
    }

    [Fact]
    public async Task A_later_registration_replaces_a_higher_versioned_row_and_an_empty_activation_drops_an_older_one()
    {
        var id = Scenario.NewId("conn");
        await Index.Upsert(Row(id, 9, 0, 0, 30));
        await TestSettings.EventuallyAsync(() => RowAsync(id), r => r?.Version == 9, TimeSpan.FromSeconds(5));
        await Index.Upsert(Row(id, 2, 60, 60, 61));
        await TestSettings.EventuallyAsync(() => RowAsync(id), r => r?.Version == 2, TimeSpan.FromSeconds(5));

        // An activation that finds nothing stored drops rows written before it, never a newer one.
        await Index.Forget(id, T0.AddSeconds(50));
        await Index.Upsert(Row(id, 3, 60, 60, 62)); // a later request from the same sender: Forget was seen by then
        Assert.Equal(3, (await TestSettings.EventuallyAsync(() => RowAsync(id), r => r?.Version == 3, TimeSpan.FromSeconds(5)))!.Version);
        await Index.Forget(id, T0.AddSeconds(100));
        await TestSettings.EventuallyAsync(() => RowAsync(id), r => r is null, TimeSpan.FromSeconds(5));
    }

    private async Task<ConnectionSummary?> RowAsync(string connectionId)
    {
        var page = await Index.List(new ConnectionQuery(PageSize: 1000));
        return page.Items.SingleOrDefault(r => r.ConnectionId == connectionId);
    }
}
