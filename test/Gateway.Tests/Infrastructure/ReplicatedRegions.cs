using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>
/// Two regions' controllers (bank-eu, scheme-eu) over mutual TLS through links a test can cut, and the seed's third
/// channel: two real redis-servers on loopback, one a replica of the other (<c>replicaof</c>). The <c>writer</c> region
/// keeps its state and projections on the primary; the other reads the writer's from the replica
/// (<c>Gateway:Peer:RedisReplica</c>). The bank owns the server pools' mirror (<c>Peer:OwnsServerPools</c>).
/// </summary>
internal sealed class ReplicatedRegions : IAsyncDisposable
{
    private ReplicatedRegions(TestCertificates certs, RedisServer primary, RedisServer replica)
    {
        Certs = certs;
        Primary = primary;
        Replica = replica;
    }

    public TestCertificates Certs { get; }

    public RedisServer Primary { get; }

    public RedisServer Replica { get; }

    public GatewayHost Bank { get; private set; } = null!;

    public GatewayHost Scheme { get; private set; } = null!;

    /// <summary>The bank's way to the scheme.</summary>
    public CuttableLink ToScheme { get; private set; } = null!;

    /// <summary>The scheme's way to the bank.</summary>
    public CuttableLink ToBank { get; private set; } = null!;

    /// <param name="writer">"bank" or "scheme": the region on the primary.</param>
    public static async Task<ReplicatedRegions> StartAsync(string writer)
    {
        var primary = await RedisServer.StartAsync();
        var replica = await RedisServer.StartAsync();
        var r = new ReplicatedRegions(new TestCertificates(), primary, replica);
        await replica.CliAsync("REPLICAOF", "127.0.0.1", primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Eventually.Until(() => replica.CliAsync("INFO", "replication"), i => i.Contains("master_link_status:up", StringComparison.Ordinal));

        var bankPort = FreePort.Next();
        var schemePort = FreePort.Next();
        r.ToScheme = new CuttableLink(schemePort);
        r.ToBank = new CuttableLink(bankPort);
        var server = r.Certs.IssueServer();
        Dictionary<string, string?> Storage(string region) => region == writer
            ? new() { ["Controller:Storage"] = "redis", ["Controller:Redis"] = primary.ConnectionString }
            : new() { ["Gateway:Peer:RedisReplica"] = replica.ConnectionString };
        r.Scheme = await GatewayHost.StartAsync("scheme-eu", o =>
        {
            o.Tls.ServerCertificate = server;
            o.Tls.ClientCa = [r.Certs.Ca];
            o.Peer.TrustedCa = [r.Certs.Ca];
            o.Peer.Address = $"https://localhost:{r.ToBank.Port}";
            o.Peer.Region = "bank-eu";
            o.Peer.ClientCertificate = r.Certs.IssueClient("scheme-eu", "peer");
        }, Storage("scheme"), grpcPort: schemePort);
        r.Bank = await GatewayHost.StartAsync("bank-eu", o =>
        {
            o.Tls.ServerCertificate = server;
            o.Tls.ClientCa = [r.Certs.Ca];
            o.Peer.TrustedCa = [r.Certs.Ca];
            o.Peer.Address = $"https://localhost:{r.ToScheme.Port}";
            o.Peer.Region = "scheme-eu";
            o.Peer.ClientCertificate = r.Certs.IssueClient("bank-eu", "peer");
            o.Peer.OwnsServerPools = true;
        }, Storage("bank"), grpcPort: bankPort);
        return r;
    }

    /// <summary>Both directions refused, as a cut network between the regions.</summary>
    public void Cut()
    {
        ToScheme.Cut();
        ToBank.Cut();
    }

    public void Restore()
    {
        ToScheme.Restore();
        ToBank.Restore();
    }

    public async ValueTask DisposeAsync()
    {
        await ToScheme.DisposeAsync();
        await ToBank.DisposeAsync();
        await Bank.DisposeAsync();
        await Scheme.DisposeAsync();
        await Replica.DisposeAsync();
        await Primary.DisposeAsync();
        Certs.Dispose();
    }
}
