using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansControl.Codec;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Sidecar;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Kafka;
using OrleansControl.Sidecar.Server;
using OrleansControl.Streams.Tests.Infrastructure;

namespace OrleansControl.Streams.Tests;

/// <summary>
/// The seed's flow on the bus, end to end against the mock broker: a link loss reported by the sidecar becomes
/// oc.connection.lost, the move oc.failover.command and oc.server.stop-sending, its end oc.connection.established; a
/// real scheme server (IsoServer on TCP, with a real bank link signed on) stops sending to the client through its
/// own consumer group, commits after acting, drops a redelivery and resumes from its committed offset.
/// </summary>
[Collection(KafkaClusterCollection.Name)]
public sealed class FailoverFlowTests(KafkaClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_reported_link_loss_flows_to_the_scheme_server_which_stops_sending_to_the_client_that_moved()
    {
        await using var scheme = new IsoServer(new IsoServerOptions { Name = "s-a1", Listen = "127.0.0.1:0" }, new Answerer());
        scheme.Start();
        var schemeAddress = $"127.0.0.1:{scheme.Endpoint!.Port}";
        var clientId = $"4{Random.Shared.NextInt64(1_000_000_000, 9_999_999_999)}"; // the institution id it signs on with (n..11)
        await using var bank = new IsoClient(new IsoClientOptions
        {
            Name = "bank",
            Server = schemeAddress,
            InstitutionId = clientId,
            EchoInterval = TimeSpan.FromMinutes(1),
        });
        bank.Start();
        Assert.True(await Eventually.TrueAsync(() => scheme.Sessions.Any(s => s.ClientId == clientId && s.SignedOn), Wait), "the bank signed on");

        var stopOptions = new StopSendingOptions
        {
            BootstrapServers = fixture.Kafka.BootstrapServers,
            ServerId = "s-a1",
            GroupId = $"stop-sending-{Guid.NewGuid():N}",
            AutoOffsetReset = "earliest",
            // A restarted member is assigned within seconds, even if the mock missed the old one leaving.
            Properties = { ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "1000" },
        };
        using var stopping = new CancellationTokenSource();
        var consumer = new StopSendingConsumer(scheme, stopOptions, NullLogger<StopSendingConsumer>.Instance);
        var consuming = consumer.RunAsync(stopping.Token);

        // The controller: a connection on s-a1 (where the bank link really is), then the sidecar reports it failed.
        var grains = fixture.Client;
        var poolId = $"pool-{Guid.NewGuid():N}";
        var pool = grains.GetGrain<IServerPoolGrain>(poolId);
        await pool.AddOrUpdateServer(new ServerDefinition("s-a1", schemeAddress, "a", 10));
        await pool.AddOrUpdateServer(new ServerDefinition("s-b1", "s-b1.scheme.test:8583", "b", 10));
        var connectionId = $"conn-{Guid.NewGuid():N}";
        var connection = grains.GetGrain<IConnectionGrain>(connectionId);
        await connection.Register(new ConnectionRegistration(clientId, poolId, "s-a1", SidecarId: "sidecar-flow", Region: "bank-eu"));
        await connection.RecordHeartbeat(new Heartbeat(20, 0, 0, DateTimeOffset.UtcNow, new LinkObservation(ObservedLinkState.SignedOn, schemeAddress)));
        Assert.Equal(ConnectionStatus.Active, (await connection.GetState()).Status);
        var result = await connection.ReportLink(new LinkObservation(ObservedLinkState.Failed, null, "connection reset by peer"));
        Assert.Equal(ConnectionStatus.Migrating, result.Status);

        // The scheme server acts on it: no more server-initiated requests to that client on s-a1.
        Assert.True(await Eventually.TrueAsync(() => scheme.Sessions.Any(s => s.ClientId == clientId && s.SendingStopped), Wait),
            "the scheme server stopped sending to the client");
        var wire = IsoWire.Create(new IsoServerOptions());
        var refused = await Assert.ThrowsAsync<SidecarException>(() => scheme.SendAsync(clientId, NetworkManagement.Echo(wire, "000001")));
        Assert.Equal(SidecarError.SendingStopped, refused.Error);
        Assert.Equal(1, consumer.Acted);
        Assert.True(await Eventually.TrueAsync(() => consumer.CommittedOffset > 0, Wait), "committed after acting");

        // The sidecar signs on at the target: the move ends, announced on controller-events.
        await connection.RecordHeartbeat(new Heartbeat(20, 0, 0, DateTimeOffset.UtcNow, new LinkObservation(ObservedLinkState.SignedOn, "s-b1.scheme.test:8583")));
        var final = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, "s-b1"), (final.Status, final.ServerId));

        // What a plain consumer (no .NET records) reads on each topic.
        var status = await Read("connection-status", connectionId,
            r => r.Any(x => Type(x) == "oc.connection.lost") && r.Count(x => Type(x) == "oc.connection.status-changed") >= final.Version);
        var lost = Assert.Single(status, r => Type(r) == "oc.connection.lost");
        Assert.Equal($"connection-lost/{connectionId}", lost.Key);
        Assert.Equal(("s-a1", "sidecar-report", "bank-eu"), (Text(lost, "serverId"), Text(lost, "detectedBy"), Text(lost, "region")));
        var changes = status.Where(r => Type(r) == "oc.connection.status-changed").ToList();
        // In order per connection: one partition, offsets and versions rising together, every version once.
        Assert.Single(changes.Select(r => r.Partition).Distinct());
        Assert.Equal(Enumerable.Range(1, (int)final.Version).Select(v => (long)v), changes.OrderBy(r => r.Offset).Select(Version));
        var failed = changes.Single(r => Text(r, "to") == "failed");
        Assert.Equal(Version(failed), lost.CloudEvent.GetProperty("data").GetProperty("version").GetInt64());

        var commands = await Read("failover-commands", connectionId,
            r => r.Any(x => Type(x) == "oc.server.stop-sending") && r.Any(x => Type(x) == "oc.failover.command"));
        var command = Assert.Single(commands, r => Type(r) == "oc.failover.command");
        var stop = Assert.Single(commands, r => Type(r) == "oc.server.stop-sending");
        Assert.Equal(("s-a1", "s-b1", clientId), (Text(stop, "serverId"), Text(stop, "toServerId"), Text(stop, "clientId")));
        Assert.Equal(Text(command, "idempotencyKey"), Text(stop, "idempotencyKey"));

        var outcomes = await Read("controller-events", connectionId, r => r.Any(x => Type(x) == "oc.connection.established"));
        var established = Assert.Single(outcomes, r => Type(r) == "oc.connection.established");
        Assert.Equal(("s-a1", "s-b1", "controller"), (Text(established, "fromServerId"), Text(established, "serverId"), Text(established, "movedBy")));
        Assert.Equal(final.Version, established.CloudEvent.GetProperty("data").GetProperty("version").GetInt64());

        // A redelivery of the same event (same id) is dropped, not acted on twice.
        await Produce("failover-commands", stop);
        Assert.True(await Eventually.TrueAsync(() => consumer.Duplicates == 1, Wait), "the redelivery was dropped");
        Assert.Equal(1, consumer.Acted);

        // Stopped and started again with its group: it resumes after its committed offset (nothing before it is acted
        // on again) and catches up with what was published while it was down.
        stopping.Cancel();
        await consuming;
        consumer.Dispose();
        var other = $"4{Random.Shared.NextInt64(1_000_000_000, 9_999_999_999)}";
        await Produce("failover-commands", StopFor("s-a1", other, connectionId));

        using var restarting = new CancellationTokenSource();
        using var again = new StopSendingConsumer(scheme, stopOptions, NullLogger<StopSendingConsumer>.Instance);
        var resumed = again.RunAsync(restarting.Token);
        Assert.True(await Eventually.TrueAsync(() => again.Acted == 1, Wait),
            $"the event published while it was down was acted on (acted {again.Acted}, duplicates {again.Duplicates}, committed {again.CommittedOffset})");
        await Task.Delay(1000);
        Assert.Equal((1, 0), (again.Acted, again.Duplicates)); // neither the first event nor its redelivery came again
        restarting.Cancel();
        await resumed;
    }

    private async Task<List<TopicReader.Record>> Read(string topic, string connectionId, Func<List<TopicReader.Record>, bool> done)
    {
        var records = await TopicReader.ReadUntilAsync(fixture.Kafka.BootstrapServers, topic, 3,
            r => done(r.Where(x => Subject(x) == connectionId).ToList()), Wait);
        return records.Where(x => Subject(x) == connectionId).ToList();
    }

    /// <summary>A stop-sending event as another controller would publish it (a plain JSON CloudEvent).</summary>
    private static TopicReader.Record StopFor(string serverId, string clientId, string connectionId)
    {
        var json = $$"""
            {"specversion":"1.0","id":"{{Guid.CreateVersion7()}}","source":"/regions/bank-eu/silos/test","type":"oc.server.stop-sending",
             "time":"{{DateTimeOffset.UtcNow:O}}","subject":"{{connectionId}}","datacontenttype":"application/json",
             "data":{"connectionId":"{{connectionId}}","clientId":"{{clientId}}","serverId":"{{serverId}}","serverAddress":null,
                     "toServerId":"s-b1","reason":"test","idempotencyKey":"k-{{Guid.NewGuid():N}}","issuedAt":"{{DateTimeOffset.UtcNow:O}}"} }
            """;
        using var doc = JsonDocument.Parse(json);
        return new TopicReader.Record($"stop-sending/{clientId}", 0, 0, doc.RootElement.Clone(), "application/cloudevents+json");
    }

    private async Task Produce(string topic, TopicReader.Record record)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = fixture.Kafka.BootstrapServers })
            .SetLogHandler((_, _) => { }).Build();
        await producer.ProduceAsync(topic, new Message<string, byte[]>
        {
            Key = record.Key,
            Value = JsonSerializer.SerializeToUtf8Bytes(record.CloudEvent),
            Headers = new Headers { { "content-type", "application/cloudevents+json"u8.ToArray() } },
        });
    }

    private static string? Subject(TopicReader.Record r) => r.CloudEvent.TryGetProperty("subject", out var s) ? s.GetString() : null;

    private static string? Type(TopicReader.Record r) => r.CloudEvent.GetProperty("type").GetString();

    private static long Version(TopicReader.Record r) => r.CloudEvent.GetProperty("data").GetProperty("version").GetInt64();

    private static string? Text(TopicReader.Record r, string field) =>
        r.CloudEvent.GetProperty("data").GetProperty(field) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    /// <summary>The scheme application: answers nothing of its own (the link's network management is the server's).</summary>
    private sealed class Answerer : IInboundHandler
    {
        public ValueTask<IsoMessage?> OnRequestAsync(IsoPeer peer, IsoMessage request, CancellationToken ct) => ValueTask.FromResult<IsoMessage?>(null);

        public void OnUnmatchedResponse(IsoPeer peer, IsoMessage response)
        {
        }
    }
}
