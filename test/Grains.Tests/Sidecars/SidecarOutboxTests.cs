using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Sidecars;

[Collection(SingleSiloCollection.Name)]
public sealed class SidecarOutboxTests(SingleSiloFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task A_reactivated_outbox_keeps_serving_the_stream_that_is_attached()
    {
        var outbox = Grains.GetGrain<ISidecarOutboxGrain>(Scenario.NewId("sidecar"));
        var attachment = await outbox.Attach(0, Doorbell());

        // The outbox's activation goes away (idle collection, its silo restarted) while the stream stays up.
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await outbox.Enqueue(Move("move-1", "conn-1"));

        var pending = await outbox.Pull(attachment.Epoch, 0);
        Assert.NotNull(pending); // not "superseded": the epoch was persisted
        Assert.Equal("move-1", Assert.Single(pending!).Command.CommandId);
        Assert.Equal(attachment.Incarnation, (await outbox.Attach(0, Doorbell())).Incarnation);
    }

    [Fact]
    public async Task Only_the_newest_move_of_a_connection_stays_pending()
    {
        var outbox = Grains.GetGrain<ISidecarOutboxGrain>(Scenario.NewId("sidecar"));
        await outbox.Enqueue(Move("move-1", "conn-1"));
        await outbox.Enqueue(Move("move-2", "conn-2"));
        await outbox.Enqueue(Move("move-3", "conn-1"));

        var pending = await outbox.GetPending();

        Assert.Equal(["move-2", "move-3"], pending.Select(p => p.Command.CommandId));
    }

    private ISidecarCommandObserver Doorbell() => fixture.Client.CreateObjectReference<ISidecarCommandObserver>(new NoDoorbell());

    private static SidecarCommand Move(string id, string connection) =>
        new(id, SidecarCommandKind.ReconnectElsewhere, connection, "s-b1", "s-b1:1", DateTimeOffset.UtcNow.AddSeconds(5), "test");

    private sealed class NoDoorbell : ISidecarCommandObserver
    {
        public Task CommandsAvailable(long upToSequence) => Task.CompletedTask;
    }
}
