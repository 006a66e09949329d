using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Grains.Tests.Infrastructure;
using Xunit.Abstractions;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// The third channel for server health: the scheme's pool grains project their servers to its Redis primary; the bank
/// reads them from a real replica of it (replicaof) while the gRPC link between the regions is cut, and its mirror of
/// the pool follows.
/// </summary>
public sealed class PeerPoolReplicaTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ReplicatedRegions _regions = null!;
    private ControllerService.ControllerServiceClient _bankApi = null!;
    private ServerPoolService.ServerPoolServiceClient _bankPools = null!;
    private ServerPoolService.ServerPoolServiceClient _schemePools = null!;

    public async Task InitializeAsync()
    {
        _regions = await ReplicatedRegions.StartAsync(writer: "scheme");
        _bankApi = new(TlsClients.Channel(_regions.Bank.GrpcAddress, _regions.Certs.Ca, null));
        _bankPools = new(TlsClients.Channel(_regions.Bank.GrpcAddress, _regions.Certs.Ca, null));
        _schemePools = new(TlsClients.Channel(_regions.Scheme.GrpcAddress, _regions.Certs.Ca, null));
        foreach (var (id, zone) in new[] { ("visa-1", "zone-a"), ("visa-2", "zone-b") })
        {
            await _schemePools.AddServerAsync(new AddServerRequest
            {
                ServerPool = "visa",
                Server = new ServerInstance { ServerId = id, Address = $"{id}.scheme.example:5000", Zone = zone, Capacity = 10 },
            }, Operator);
        }
    }

    private async Task<Connection> Register(string client, string preferred) =>
        (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = client, ServerPool = "visa", PreferredServer = preferred }, Operator)).Connection;

    private async Task<Dictionary<string, ServerInstance>> BankLists() =>
        (await _bankPools.ListServersAsync(new ListServersRequest { ServerPool = "visa" }, Operator)).Servers.ToDictionary(s => s.ServerId);

    [Fact]
    public async Task With_the_link_cut_the_bank_takes_server_health_from_the_schemes_replica_and_registers_around_it_without_writing_there()
    {
        // Link up: the first registration mirrors the scheme's pool; nothing in the listing comes from the replica.
        var first = await Register("acquirer-1", "visa-1");
        Assert.Equal("visa-1", first.ServerId);
        var mirrored = await Eventually.Until(BankLists, l => l.Count == 2);
        Assert.All(mirrored.Values, s => Assert.Null(s.ReplicaRead));
        Assert.True(mirrored["visa-1"].Healthy);

        _regions.Cut();
        // An operator of the scheme takes visa-1 out: the relay to the bank cannot get through (it is queued there).
        var marked = await _schemePools.SetServerHealthAsync(new SetServerHealthRequest
        {
            ServerPool = "visa",
            ServerId = "visa-1",
            Health = ServerHealth.Unhealthy,
            Reason = "maintenance",
        }, Operator);
        Assert.Equal(ServerHealth.Unhealthy, marked.Server.Health);

        // The bank learns the link is down, reads the scheme's projection from the replica, and says so with its age.
        var listed = await Eventually.Until(BankLists,
            l => l.TryGetValue("visa-1", out var s) && s.ReplicaRead is not null && s.Health == ServerHealth.Unhealthy, TimeSpan.FromSeconds(20));
        foreach (var s in listed.Values) output.WriteLine($"{s.ServerId} {s.Health} load {s.Load}: {s.ReplicaRead}");
        var read = listed["visa-1"];
        Assert.False(read.Healthy);
        Assert.Equal(("visa-1.scheme.example:5000", "zone-a", 10), (read.Address, read.Zone, read.Capacity));
        Assert.Equal($"127.0.0.1:{_regions.Replica.Port}", read.ReplicaRead.Replica);
        Assert.InRange(read.ReplicaRead.AgeMs, 0, 60_000);
        Assert.InRange(read.ReplicaRead.ReplicationLagMs, 0, 5_000);
        Assert.True(read.ReplicaRead.ReadAt.ToDateTimeOffset() >= read.ReplicaRead.WrittenAt.ToDateTimeOffset());

        // The mirror took the health: a registration that prefers visa-1 lands on visa-2, provisionally.
        var during = await Register("acquirer-2", "visa-1");
        Assert.Equal("visa-2", during.ServerId);
        output.WriteLine(during.StatusDetail);

        // Never written: a write to a read-only replica would be answered READONLY, and the replica counts every error.
        var errors = await _regions.Replica.CliAsync("INFO", "errorstats");
        output.WriteLine(errors);
        Assert.DoesNotContain("READONLY", errors, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("role:slave", await _regions.Replica.CliAsync("INFO", "replication"));

        // The link back: the mirror is refreshed by gRPC (still unhealthy, the scheme's word), replica_read goes.
        _regions.Restore();
        var after = await Eventually.Until(BankLists, l => l.Values.All(s => s.ReplicaRead is null), TimeSpan.FromSeconds(20));
        Assert.Equal(ServerHealth.Unhealthy, after["visa-1"].Health);
    }

    public async Task DisposeAsync() => await _regions.DisposeAsync();
}
