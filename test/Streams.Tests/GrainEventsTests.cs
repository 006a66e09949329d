using System.Diagnostics;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Streams.Tests.Infrastructure;

namespace OrleansControl.Streams.Tests;

/// <summary>A connection grain's events through the silo's Kafka provider: to Orleans subscribers and to plain Kafka readers.</summary>
[Collection(KafkaClusterCollection.Name)]
public sealed class GrainEventsTests(KafkaClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Connection_events_reach_an_Orleans_subscriber_and_a_plain_consumer_in_order_as_CloudEvents()
    {
        var grains = fixture.Client;
        var poolId = $"pool-{Guid.NewGuid():N}";
        var pool = grains.GetGrain<IServerPoolGrain>(poolId);
        await pool.AddOrUpdateServer(new ServerDefinition("s-a1", "s-a1.scheme.test:8583", "a", 10));
        await pool.AddOrUpdateServer(new ServerDefinition("s-b1", "s-b1.scheme.test:8583", "b", 10));
        var connectionId = $"conn-{Guid.NewGuid():N}";
        var recorder = $"rec-{Guid.NewGuid():N}";
        var allRecorder = $"rec-all-{Guid.NewGuid():N}";
        await grains.GetGrain<IEventRecorderGrain>(recorder).Watch(ControllerStreams.StatusNamespace, connectionId);
        await grains.GetGrain<IEventRecorderGrain>(allRecorder).Watch(ControllerStreams.StatusNamespace, ControllerStreams.AllKey);

        var connection = grains.GetGrain<IConnectionGrain>(connectionId);
        var registered = await connection.Register(new ConnectionRegistration($"bank-{Guid.NewGuid():N}", poolId, "s-a1", SidecarId: "sidecar-1"));
        await connection.RecordHeartbeat(new Heartbeat(20, 0, 0, DateTimeOffset.UtcNow,
            Link: new LinkObservation(ObservedLinkState.SignedOn, registered.ServerAddress)));
        var active = await connection.GetState();
        await connection.TransitionTo(ConnectionStatus.Closed, active.Version, "test over");
        var final = await connection.GetState();

        var seen = EventRecorderGrain.Seen.GetOrAdd(recorder, _ => new());
        Assert.True(await Eventually.TrueAsync(() => Versions(seen).LastOrDefault() == final.Version, Wait),
            $"subscriber saw versions [{string.Join(",", Versions(seen))}], expected up to {final.Version}");
        var versions = Versions(seen);
        Assert.Equal(Enumerable.Range(1, (int)final.Version).Select(v => (long)v), versions);
        Assert.Equal(ConnectionStatus.Closed, seen.Select(r => (ConnectionStatusChanged)r.Data).Last().To);
        Assert.All(seen, r => Assert.False(string.IsNullOrEmpty(r.EventId)));

        // The all-stream gets the same events, derived on read (each event is written to Kafka once).
        var all = EventRecorderGrain.Seen.GetOrAdd(allRecorder, _ => new());
        Assert.True(await Eventually.TrueAsync(() => all.Count(r => r.Data is ConnectionStatusChanged c && c.ConnectionId == connectionId) == versions.Count, Wait));

        // A plain Kafka consumer reads the same events, keyed by the stream, in the same order, as CloudEvents.
        var key = $"{ControllerStreams.StatusNamespace}/{connectionId}";
        var records = await TopicReader.ReadUntilAsync(fixture.Kafka.BootstrapServers, "connection-status", 3,
            r => r.Count(x => x.Key == key) >= versions.Count, Wait);
        var mine = records.Where(r => r.Key == key).ToList();
        Assert.Equal(versions.Count, mine.Count);
        Assert.Single(mine.Select(r => r.Partition).Distinct());
        Assert.Equal(seen.Select(r => r.EventId), mine.Select(r => r.CloudEvent.GetProperty("id").GetString()));
        foreach (var record in mine)
        {
            var e = record.CloudEvent;
            Assert.Equal("application/cloudevents+json", record.ContentType);
            Assert.Equal("1.0", e.GetProperty("specversion").GetString());
            Assert.Equal("oc.connection.status-changed", e.GetProperty("type").GetString());
            Assert.StartsWith("/regions/local/silos/", e.GetProperty("source").GetString(), StringComparison.Ordinal);
            Assert.Equal(connectionId, e.GetProperty("subject").GetString());
            Assert.Equal("application/json", e.GetProperty("datacontenttype").GetString());
            Assert.True(DateTimeOffset.TryParse(e.GetProperty("time").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
            Assert.Equal(connectionId, e.GetProperty("data").GetProperty("connectionId").GetString());
        }
        Assert.Equal(versions, mine.Select(r => r.CloudEvent.GetProperty("data").GetProperty("version").GetInt64()));
        Assert.Equal("closed", mine[^1].CloudEvent.GetProperty("data").GetProperty("to").GetString());

        // kcat, as an operator (or any non-.NET consumer) would read the topic.
        var kcat = await KcatAsync("-C", "-b", fixture.Kafka.BootstrapServers, "-t", "connection-status", "-o", "beginning", "-e", "-q",
            "-f", "%k %s\\n");
        if (kcat is not null)
            Assert.Equal(versions.Count, kcat.Split('\n').Count(l => l.StartsWith(key + " {", StringComparison.Ordinal)));
    }

    private static List<long> Versions(IEnumerable<Received> seen) =>
        seen.Select(r => ((ConnectionStatusChanged)r.Data).Version).ToList();

    /// <summary>kcat's output, or null where kcat is not installed (test.sh installs it).</summary>
    internal static async Task<string?> KcatAsync(params string[] args)
    {
        var path = new[] { "/usr/bin/kcat", "/usr/local/bin/kcat" }.FirstOrDefault(File.Exists);
        if (path is null)
            return null;
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        return await output;
    }
}
