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
    private LinkedRegions _regions = null!;

    private ReplicatedRegions(RedisServer primary, RedisServer replica)
    {
        Primary = primary;
        Replica = replica;
    }

    public TestCertificates Certs => _regions.Certs;

    public RedisServer Primary { get; }

    public RedisServer Replica { get; }

    public GatewayHost Bank => _regions.Bank;

    public GatewayHost Scheme => _regions.Scheme;

    /// <summary>The bank's way to the scheme.</summary>
    public CuttableLink ToScheme => _regions.ToScheme;

    /// <summary>The scheme's way to the bank.</summary>
    public CuttableLink ToBank => _regions.ToBank;

    /// <param name="writer">"bank" or "scheme": the region on the primary.</param>
    public static async Task<ReplicatedRegions> StartAsync(string writer)
    {
        var primary = await RedisServer.StartAsync();
        var replica = await RedisServer.StartAsync();
        var r = new ReplicatedRegions(primary, replica);
        await replica.CliAsync("REPLICAOF", "127.0.0.1", primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Eventually.Until(() => replica.CliAsync("INFO", "replication"), i => i.Contains("master_link_status:up", StringComparison.Ordinal));

        Dictionary<string, string?> Storage(string region) => region == writer
            ? new() { ["Controller:Storage"] = "redis", ["Controller:Redis"] = primary.ConnectionString }
            : new() { ["Gateway:Peer:RedisReplica"] = replica.ConnectionString };
        r._regions = await LinkedRegions.StartAsync(bank: Storage("bank"), scheme: Storage("scheme"));
        return r;
    }

    /// <summary>Both directions refused, as a cut network between the regions.</summary>
    public void Cut() => _regions.Cut();

    public void Restore() => _regions.Restore();

    public async ValueTask DisposeAsync()
    {
        await _regions.DisposeAsync();
        await Replica.DisposeAsync();
        await Primary.DisposeAsync();
    }
}
