using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Grains.Tests.Infrastructure;
using Xunit.Abstractions;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// The seed's third channel: the bank's registry projection goes to its Redis primary; the scheme reads it from a real
/// replica of that primary (replicaof) while the gRPC link between the regions is cut.
/// </summary>
public sealed class PeerRedisReplicaTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ReplicatedRegions _regions = null!;
    private ControllerService.ControllerServiceClient _bankApi = null!;
    private ControllerService.ControllerServiceClient _schemeApi = null!;

    public async Task InitializeAsync()
    {
        _regions = await ReplicatedRegions.StartAsync(writer: "bank");
        _bankApi = new(TlsClients.Channel(_regions.Bank.GrpcAddress, _regions.Certs.Ca, null));
        _schemeApi = new(TlsClients.Channel(_regions.Scheme.GrpcAddress, _regions.Certs.Ca, null));
        var pools = new ServerPoolService.ServerPoolServiceClient(TlsClients.Channel(_regions.Scheme.GrpcAddress, _regions.Certs.Ca, null));
        foreach (var (id, zone) in new[] { ("visa-1", "zone-a"), ("visa-2", "zone-b") })
        {
            await pools.AddServerAsync(new AddServerRequest
            {
                ServerPool = "visa",
                Server = new ServerInstance { ServerId = id, Address = $"{id}.scheme.example:5000", Zone = zone, Capacity = 10 },
            }, Operator);
        }
    }

    private async Task<Connection> Register(string client, string preferred) =>
        (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = client, ServerPool = "visa", PreferredServer = preferred }, Operator)).Connection;

    private async Task<Dictionary<string, Connection>> SchemeListsBank() =>
        (await _schemeApi.ListConnectionsAsync(new ListConnectionsRequest { Region = "bank-eu" }, Operator)).Connections.ToDictionary(c => c.ConnectionId);

    [Fact]
    public async Task With_the_link_cut_the_scheme_lists_the_banks_connections_from_the_replica_with_their_age_and_never_writes_there()
    {
        var kept = await Register("acquirer-1", "visa-1");
        var closedLater = await Register("acquirer-2", "visa-2");
        // Link up: the scheme's copies come by SyncState, and carry no replica_read (until the first sync has arrived the
        // scheme may list them from the replica, marked so: a slow start on a loaded machine).
        var before = await Eventually.Until(SchemeListsBank, l => l.Count == 2 && l.Values.All(c => c.Version >= 1 && c.ReplicaRead is null));
        Assert.All(before.Values, c => Assert.Null(c.ReplicaRead));

        _regions.Cut();
        // The bank goes on: a close and a registration the scheme cannot hear of by gRPC.
        var closed = (await _bankApi.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = closedLater.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = closedLater.Version,
        }, Operator)).Connection;
        var during = await Register("acquirer-3", "visa-1");

        // The scheme sees the link is down (its next round's probe fails) and completes its listing from the replica.
        var listed = await Eventually.Until(SchemeListsBank,
            l => l.Count == 3 && l[during.ConnectionId].ReplicaRead is not null && l[closedLater.ConnectionId].Status == ConnectionStatus.Closed,
            TimeSpan.FromSeconds(20));
        foreach (var c in listed.Values) output.WriteLine($"{c.ConnectionId} v{c.Version} {c.Status}: {c.ReplicaRead}");
        var read = listed[during.ConnectionId];
        Assert.Equal((during.Version, during.ServerId, "bank-eu", ConnectionStatus.Requested), (read.Version, read.ServerId, read.Region, read.Status));
        Assert.Equal($"127.0.0.1:{_regions.Replica.Port}", read.ReplicaRead.Replica);
        Assert.InRange(read.ReplicaRead.AgeMs, 0, 60_000);
        Assert.InRange(read.ReplicaRead.ReplicationLagMs, 0, 5_000);
        Assert.True(read.ReplicaRead.ReadAt.ToDateTimeOffset() >= read.ReplicaRead.WrittenAt.ToDateTimeOffset());
        Assert.Equal(closed.Version, listed[closedLater.ConnectionId].Version);
        Assert.NotNull(listed[closedLater.ConnectionId].ReplicaRead);
        Assert.Null(listed[kept.ConnectionId].ReplicaRead); // unchanged: this region's own copy is as new
        // A lookup by id too.
        var got = await _schemeApi.GetConnectionAsync(new GetConnectionRequest { ConnectionId = during.ConnectionId }, Operator);
        Assert.NotNull(got.ReplicaRead);

        // Never written: a write to a read-only replica would be answered READONLY, and the replica counts every error.
        var errors = await _regions.Replica.CliAsync("INFO", "errorstats");
        output.WriteLine(errors);
        Assert.DoesNotContain("READONLY", errors, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("role:slave", await _regions.Replica.CliAsync("INFO", "replication"));

        // The link back: SyncState brings the scheme's own copies up to date; replica_read goes with it.
        _regions.Restore();
        var after = await Eventually.Until(SchemeListsBank, l => l.Count == 3 && l.Values.All(c => c.ReplicaRead is null), TimeSpan.FromSeconds(20));
        Assert.Equal(during.Version, after[during.ConnectionId].Version);
    }

    [Fact]
    public async Task A_replica_that_is_a_primary_is_refused_and_the_answer_goes_on_without_it()
    {
        await using var scheme = await GatewayHost.StartAsync("scheme-x", o =>
        {
            o.Tls.ServerCertificate = _regions.Certs.IssueServer();
            o.Tls.ClientCa = [_regions.Certs.Ca];
            o.Peer.TrustedCa = [_regions.Certs.Ca];
            o.Peer.Address = "https://localhost:1"; // nobody there: the link is down at once
            o.Peer.Region = "bank-eu";
            o.Peer.ClientCertificate = _regions.Certs.IssueClient("scheme-x", "peer");
        }, new Dictionary<string, string?> { ["Gateway:Peer:RedisReplica"] = _regions.Primary.ConnectionString });
        await Register("acquirer-p", "visa-1"); // in the primary's projection
        var api = new ControllerService.ControllerServiceClient(TlsClients.Channel(scheme.GrpcAddress, _regions.Certs.Ca, null));
        await Task.Delay(TimeSpan.FromSeconds(3)); // a round or two: the link is known down
        var listed = await api.ListConnectionsAsync(new ListConnectionsRequest(), Operator);
        Assert.Empty(listed.Connections);
    }

    public async Task DisposeAsync() => await _regions.DisposeAsync();
}
