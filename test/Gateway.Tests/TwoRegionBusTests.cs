using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Regions;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.KafkaBroker;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// The bus as the second way between the regions: both controllers on one Kafka (the mock broker, as MSK with
/// cross-region replication presents it), each its own consumer group, and the gRPC link between them cut. A failover
/// decided in the bank region shows in the scheme region's registry from the bus alone; when gRPC returns, SyncState
/// finds nothing left to repair.
/// </summary>
public sealed class TwoRegionBusTests : IAsyncLifetime
{
    private readonly MockKafkaCluster _kafka = MockKafkaCluster.Start(brokers: 3); // before any Kafka client: one native library
    private LinkedRegions _regions = null!;
    private ControllerService.ControllerServiceClient _bankApi = null!;
    private ControllerService.ControllerServiceClient _schemeApi = null!;

    public async Task InitializeAsync()
    {
        var bus = new Dictionary<string, string?>
        {
            ["Controller:Streams"] = "kafka",
            ["Controller:Kafka:BootstrapServers"] = _kafka.BootstrapServers,
        };
        // In memory: started again, a region has forgotten everything but its consumer group's offsets.
        _regions = await LinkedRegions.StartAsync(bank: bus, scheme: bus);
        _bankApi = new(_regions.Channel(_regions.Bank));
        _schemeApi = new(_regions.Channel(_regions.Scheme));
        await _regions.AddSchemeServersAsync("visa", ("visa-1", "zone-a"), ("visa-2", "zone-b"));
    }

    public async Task DisposeAsync()
    {
        await _regions.DisposeAsync();
        _kafka.Dispose();
    }

    private async Task<Connection> Register(string client, string preferred) =>
        (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = client, ServerPool = "visa", PreferredServer = preferred }, Operator)).Connection;

    private async Task<Connection?> Find(ControllerService.ControllerServiceClient api, string id)
    {
        try
        {
            return await api.GetConnectionAsync(new GetConnectionRequest { ConnectionId = id }, Operator);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    [Fact]
    public async Task A_failover_decided_in_one_region_reaches_the_other_through_the_bus_while_the_grpc_link_is_cut()
    {
        var registered = (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "acquirer-bus", ServerPool = "visa", PreferredServer = "visa-2" }, Operator)).Connection;
        await Eventually.Until(() => Find(_schemeApi, registered.ConnectionId), c => c?.Version == registered.Version, TimeSpan.FromSeconds(20));

        _regions.Cut();
        // Decided in the bank region while the regions cannot call each other: the connection moves (it waits in
        // Migrating, as no sidecar carries it), and a registration made from the bank's mirror of the pool.
        var moving = (await _bankApi.RequestFailoverAsync(new RequestFailoverRequest
        {
            ConnectionId = registered.ConnectionId,
            Reason = "operator: drain visa-2",
            IdempotencyKey = $"bus-{Guid.NewGuid():N}",
        }, Operator)).Connection;
        Assert.Equal((ConnectionStatus.Migrating, "visa-1"), (moving.Status, moving.FailoverTarget));
        var duringCut = (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "acquirer-bus-2", ServerPool = "visa", PreferredServer = "visa-1" }, Operator)).Connection;

        // The scheme region's registry shows both within a few seconds, from the bus alone.
        var started = DateTime.UtcNow;
        var seen = await Eventually.Until(() => Find(_schemeApi, registered.ConnectionId), c => c?.Version == moving.Version, TimeSpan.FromSeconds(15));
        Assert.Equal((ConnectionStatus.Migrating, "visa-1", "bank-eu"), (seen!.Status, seen.FailoverTarget, seen.Region));
        var alsoSeen = await Eventually.Until(() => Find(_schemeApi, duringCut.ConnectionId), c => c?.Version == duringCut.Version, TimeSpan.FromSeconds(15));
        Assert.Equal((duringCut.ServerId, "visa"), (alsoSeen!.ServerId, alsoSeen.ServerPool));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15));
        var listed = await _schemeApi.ListConnectionsAsync(new ListConnectionsRequest { PageSize = 100 }, Operator);
        Assert.Contains(listed.Connections, c => c.ConnectionId == registered.ConnectionId && c.Status == ConnectionStatus.Migrating);

        // gRPC returns: the bank's full SyncState round brings both entries again and finds nothing left to repair.
        var sync = _regions.Scheme.Services.GetRequiredService<RegistrySync>();
        var (received, repaired) = (sync.EntriesReceived, sync.EntriesRepaired);
        _regions.Restore();
        await Eventually.Until(() => Task.FromResult(sync.EntriesReceived), n => n >= received + 2, TimeSpan.FromSeconds(20));
        Assert.Equal(repaired, sync.EntriesRepaired);
        Assert.Equal(moving.Version, (await Find(_schemeApi, registered.ConnectionId))!.Version);
    }

    [Fact]
    public async Task After_the_bank_restarts_on_memory_its_new_registrations_changes_reach_the_schemes_copy_through_the_bus()
    {
        var id = $"conn-bus-reborn-{Guid.NewGuid():N}"[..28];
        var c = (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ConnectionId = id, ClientId = "acquirer-reborn", ServerPool = "visa" }, Operator)).Connection;
        // A move that waits in Migrating (no sidecar carries it here), given up by hand: version 3 or more.
        c = (await _bankApi.RequestFailoverAsync(
            new RequestFailoverRequest { ConnectionId = id, Reason = "operator: drain", IdempotencyKey = $"drain-{Guid.NewGuid():N}" }, Operator)).Connection;
        c = (await _bankApi.UpdateConnectionStateAsync(
            new UpdateConnectionStateRequest { ConnectionId = id, State = ConnectionStatus.Failed, ExpectedVersion = c.Version }, Operator)).Connection;
        Assert.True(c.Version >= 3, $"version {c.Version}");
        await Eventually.Until(() => Find(_schemeApi, id), x => x?.Version == c.Version, TimeSpan.FromSeconds(20));

        // The bank restarts on memory and registers the connection again (the link up: the scheme assigns), then the
        // gRPC link is cut: what the new registration does next reaches the scheme only through the bus.
        await _regions.Bank.DisposeAsync();
        await _regions.StartBankAsync();
        _bankApi = new(_regions.Channel(_regions.Bank));
        var reborn = (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ConnectionId = id, ClientId = "acquirer-reborn", ServerPool = "visa" }, Operator)).Connection;
        _regions.Cut();
        var failed = (await _bankApi.UpdateConnectionStateAsync(
            new UpdateConnectionStateRequest { ConnectionId = id, State = ConnectionStatus.Failed, ExpectedVersion = reborn.Version }, Operator)).Connection;
        Assert.Equal(2L, failed.Version);

        // The copy (version 3 or more of the old registration) takes the new one's version 2 from the bus alone.
        var copy = await Eventually.Until(() => Find(_schemeApi, id), x => x?.Incarnation == reborn.Incarnation && x.Version == failed.Version,
            TimeSpan.FromSeconds(15));
        Assert.Equal((ConnectionStatus.Failed, failed.ServerId), (copy!.Status, copy.ServerId));
    }

    [Fact]
    public async Task A_region_that_was_down_catches_up_from_its_committed_offset()
    {
        var before = await Register("acquirer-early", "visa-2");
        var moved = await Register("acquirer-moved", "visa-2");
        // Both arrive; not necessarily in the order registered (each connection's events are ordered, two connections'
        // are not: they may be on different partitions of the bus).
        await Eventually.Until(() => Find(_schemeApi, moved.ConnectionId), c => c?.Version == moved.Version, TimeSpan.FromSeconds(20));
        await Eventually.Until(() => Find(_schemeApi, before.ConnectionId), c => c?.Version == before.Version, TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(2)); // the receivers commit what they delivered every 500 ms (and on stop)

        // The scheme region goes down; the bank decides a failover meanwhile, with no gRPC link to tell it.
        _regions.Cut();
        await _regions.Scheme.DisposeAsync();
        var moving = (await _bankApi.RequestFailoverAsync(new RequestFailoverRequest
        {
            ConnectionId = moved.ConnectionId,
            Reason = "operator: drain visa-2",
            IdempotencyKey = $"bus-{Guid.NewGuid():N}",
        }, Operator)).Connection;
        Assert.Equal(ConnectionStatus.Migrating, moving.Status);

        // Back (its replicas were in memory: gone), still without gRPC: it reads on from its committed offset. What was
        // published while it was down arrives; what it had read before does not come again.
        await _regions.StartSchemeAsync();
        _schemeApi = new(_regions.Channel(_regions.Scheme));
        var caughtUp = await Eventually.Until(() => Find(_schemeApi, moved.ConnectionId), c => c?.Version == moving.Version, TimeSpan.FromSeconds(30));
        Assert.Equal((ConnectionStatus.Migrating, "visa-1"), (caughtUp!.Status, caughtUp.FailoverTarget));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Null(await Find(_schemeApi, before.ConnectionId));
    }
}
