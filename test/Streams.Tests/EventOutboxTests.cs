using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Streams.Tests.Infrastructure;

namespace OrleansControl.Streams.Tests;

/// <summary>
/// A connection's status events are kept with the change they describe until the provider accepts them: a broker
/// outage that fills the producer's buffer delays them, it never loses them, and they arrive in order.
/// </summary>
[Collection(SmallBufferKafkaClusterCollection.Name)]
public sealed class EventOutboxTests(SmallBufferKafkaClusterFixture fixture)
{
    [Fact]
    public async Task Events_refused_by_a_full_buffer_during_an_outage_arrive_in_order_once_the_brokers_return()
    {
        var grains = fixture.Client;
        var poolId = $"pool-{Guid.NewGuid():N}";
        var pool = grains.GetGrain<IServerPoolGrain>(poolId);
        await pool.AddOrUpdateServer(new ServerDefinition("s-a1", "s-a1.scheme.test:8583", "a", 10));
        await pool.AddOrUpdateServer(new ServerDefinition("s-b1", "s-b1.scheme.test:8583", "b", 10));
        var connectionId = $"conn-{Guid.NewGuid():N}";
        var recorder = $"rec-{Guid.NewGuid():N}";
        await grains.GetGrain<IEventRecorderGrain>(recorder).Watch(ControllerStreams.StatusNamespace, connectionId);
        var connection = grains.GetGrain<IConnectionGrain>(connectionId);

        fixture.Kafka.Broker.SetAllBrokersDown();
        long final;
        try
        {
            // Six status changes while no broker answers: two fit the producer's buffer, the rest are refused.
            var registered = await connection.Register(new ConnectionRegistration("bank-1", poolId, "s-a1", SidecarId: "sidecar-1"));
            await connection.RecordHeartbeat(new Heartbeat(20, 0, 0, DateTimeOffset.UtcNow, new LinkObservation(ObservedLinkState.SignedOn, registered.ServerAddress)));
            await connection.ReportHealth(new HealthReport(ReportedHealth.Degraded, "slow"));
            await connection.ReportHealth(new HealthReport(ReportedHealth.Healthy, "fine"));
            await connection.ReportHealth(new HealthReport(ReportedHealth.Degraded, "slow"));
            var state = await connection.GetState();
            final = (await connection.TransitionTo(ConnectionStatus.Closed, state.Version, "test over")).Version;
            Assert.Equal(6, final); // every change was made and persisted, whatever the broker did
        }
        finally
        {
            fixture.Kafka.Broker.SetAllBrokersUp();
        }

        var seen = EventRecorderGrain.Seen.GetOrAdd(recorder, _ => new());
        Assert.True(await Eventually.TrueAsync(() => Versions(seen).Distinct().Count() == final, TimeSpan.FromSeconds(45)),
            $"subscriber saw versions [{string.Join(",", Versions(seen))}], expected 1..{final}");
        // In order; a retried event may repeat (at least once), never go missing.
        Assert.Equal(Enumerable.Range(1, (int)final).Select(v => (long)v), Versions(seen).Distinct());
        Assert.Equal(Versions(seen).Distinct(), Versions(seen).Where((v, i) => i == 0 || v != Versions(seen)[i - 1]));
    }

    private static List<long> Versions(IEnumerable<Received> seen) =>
        seen.Select(r => ((ConnectionStatusChanged)r.Data).Version).ToList();
}
