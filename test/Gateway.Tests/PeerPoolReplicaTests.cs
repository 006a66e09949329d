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
    private readonly TestCertificates _certs = new();
    private RedisServer _primary = null!;
    private RedisServer _replica = null!;
    private GatewayHost _bank = null!;
    private GatewayHost _scheme = null!;
    private CuttableLink _toScheme = null!;
    private CuttableLink _toBank = null!;
    private ControllerService.ControllerServiceClient _bankApi = null!;
    private ServerPoolService.ServerPoolServiceClient _bankPools = null!;
    private ServerPoolService.ServerPoolServiceClient _schemePools = null!;

    public async Task InitializeAsync()
    {
        _primary = await RedisServer.StartAsync();
        _replica = await RedisServer.StartAsync();
        await _replica.CliAsync("REPLICAOF", "127.0.0.1", _primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Eventually.Until(() => _replica.CliAsync("INFO", "replication"), i => i.Contains("master_link_status:up", StringComparison.Ordinal));

        var bankPort = FreePort.Next();
        var schemePort = FreePort.Next();
        _toScheme = new CuttableLink(schemePort);
        _toBank = new CuttableLink(bankPort);
        var server = _certs.IssueServer();
        _scheme = await GatewayHost.StartAsync("scheme-eu", o =>
        {
            o.Tls.ServerCertificate = server;
            o.Tls.ClientCa = [_certs.Ca];
            o.Peer.TrustedCa = [_certs.Ca];
            o.Peer.Address = $"https://localhost:{_toBank.Port}";
            o.Peer.Region = "bank-eu";
            o.Peer.ClientCertificate = _certs.IssueClient("scheme-eu", "peer");
        }, new Dictionary<string, string?> { ["Controller:Storage"] = "redis", ["Controller:Redis"] = _primary.ConnectionString }, grpcPort: schemePort);
        _bank = await GatewayHost.StartAsync("bank-eu", o =>
        {
            o.Tls.ServerCertificate = server;
            o.Tls.ClientCa = [_certs.Ca];
            o.Peer.TrustedCa = [_certs.Ca];
            o.Peer.Address = $"https://localhost:{_toScheme.Port}";
            o.Peer.Region = "scheme-eu";
            o.Peer.ClientCertificate = _certs.IssueClient("bank-eu", "peer");
            o.Peer.OwnsServerPools = true;
        }, new Dictionary<string, string?> { ["Gateway:Peer:RedisReplica"] = _replica.ConnectionString }, grpcPort: bankPort);
        _bankApi = new(TlsClients.Channel(_bank.GrpcAddress, _certs.Ca, null));
        _bankPools = new(TlsClients.Channel(_bank.GrpcAddress, _certs.Ca, null));
        _schemePools = new(TlsClients.Channel(_scheme.GrpcAddress, _certs.Ca, null));
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

        _toScheme.Cut();
        _toBank.Cut();
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
        Assert.Equal($"127.0.0.1:{_replica.Port}", read.ReplicaRead.Replica);
        Assert.InRange(read.ReplicaRead.AgeMs, 0, 60_000);
        Assert.InRange(read.ReplicaRead.ReplicationLagMs, 0, 5_000);
        Assert.True(read.ReplicaRead.ReadAt.ToDateTimeOffset() >= read.ReplicaRead.WrittenAt.ToDateTimeOffset());

        // The mirror took the health: a registration that prefers visa-1 lands on visa-2, provisionally.
        var during = await Register("acquirer-2", "visa-1");
        Assert.Equal("visa-2", during.ServerId);
        output.WriteLine(during.StatusDetail);

        // Never written: a write to a read-only replica would be answered READONLY, and the replica counts every error.
        var errors = await _replica.CliAsync("INFO", "errorstats");
        output.WriteLine(errors);
        Assert.DoesNotContain("READONLY", errors, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("role:slave", await _replica.CliAsync("INFO", "replication"));

        // The link back: the mirror is refreshed by gRPC (still unhealthy, the scheme's word), replica_read goes.
        _toScheme.Restore();
        _toBank.Restore();
        var after = await Eventually.Until(BankLists, l => l.Values.All(s => s.ReplicaRead is null), TimeSpan.FromSeconds(20));
        Assert.Equal(ServerHealth.Unhealthy, after["visa-1"].Health);
    }

    public async Task DisposeAsync()
    {
        await _toScheme.DisposeAsync();
        await _toBank.DisposeAsync();
        await _bank.DisposeAsync();
        await _scheme.DisposeAsync();
        await _replica.DisposeAsync();
        await _primary.DisposeAsync();
        _certs.Dispose();
    }
}
