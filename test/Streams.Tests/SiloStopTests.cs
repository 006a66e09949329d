using Orleans.Runtime;
using Xunit.Abstractions;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Streams.Tests.Infrastructure;

namespace OrleansControl.Streams.Tests;

/// <summary>Two silos share the partitions; one stops mid-stream and the other takes its partitions over.</summary>
[Collection(TwoSiloKafkaCollection.Name)]
public sealed class SiloStopTests(TwoSiloKafkaFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_stopped_mid_stream_loses_nothing_and_repeats_carry_the_same_event_id()
    {
        const int Streams = 24;
        const int Rounds = 30;
        var keys = Enumerable.Range(0, Streams).Select(i => $"conn-{i}-{Guid.NewGuid():N}"[..16]).ToArray();
        var provider = fixture.Client.GetStreamProvider(ControllerStreams.ProviderName);
        var streams = keys.Select(k => provider.GetStream<ConnectionStatusChanged>(StreamId.Create(ImplicitRecorderGrain.Namespace, k))).ToArray();

        for (var round = 1; round <= Rounds; round++)
        {
            if (round == 11)
                await fixture.Cluster.StopSiloAsync(fixture.Cluster.Silos[1]);
            for (var s = 0; s < Streams; s++)
                await streams[s].OnNextAsync(DirectAdapter.Event(keys[s], round));
            await Task.Delay(50);
        }

        var done = await Eventually.TrueAsync(() => keys.All(k => Distinct(k).Count == Rounds), TimeSpan.FromSeconds(60));
        var missing = keys.Select(k => (k, Rounds - Distinct(k).Count)).Where(x => x.Item2 > 0).ToList();
        Assert.True(done, $"missing events: {string.Join(", ", missing.Select(m => $"{m.k}: {m.Item2}"))}");
        var recorded = keys.Sum(k => ImplicitRecorderGrain.Seen[k].Count);
        output.WriteLine($"{Streams * Rounds} events, {recorded} recorded ({recorded - Streams * Rounds} repeats that reached a reactivated subscriber)");
        foreach (var key in keys)
        {
            var seen = ImplicitRecorderGrain.Seen[key].ToList();
            // Nothing lost, in order per stream once repeats are dropped by id.
            Assert.Equal(Enumerable.Range(1, Rounds).Select(v => (long)v), Distinct(key).Select(r => ((ConnectionStatusChanged)r.Data).Version));
            // A repeat is the same event (same id, same data), never a different event with the same content.
            Assert.Equal(Rounds, seen.Select(r => r.EventId).Distinct().Count());
            Assert.All(seen.GroupBy(r => r.EventId), g => Assert.Single(g.Select(r => ((ConnectionStatusChanged)r.Data).Version).Distinct()));
        }
    }

    private static List<Received> Distinct(string key) =>
        ImplicitRecorderGrain.Seen.TryGetValue(key, out var seen)
            ? seen.ToList().DistinctBy(r => r.EventId).ToList()
            : [];
}
