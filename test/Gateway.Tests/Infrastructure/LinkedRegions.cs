using OrleansControl.Contract.V1;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>
/// Two regions in one test, as the seed has them: a bank cluster (bank-eu) and a scheme cluster (scheme-eu), own silos
/// and cluster ids, each with its gateway, linked by mutual TLS over real loopback TCP through forwarders the test can
/// cut. The bank owns the server pools' mirror (<c>Peer:OwnsServerPools</c>). Either region can be started again on
/// its port (<see cref="StartBankAsync"/>, <see cref="StartSchemeAsync"/>): in memory, a restarted region has forgotten
/// everything its settings do not keep. The links' timing is left at its defaults: what the tests measure is what
/// production gets.
/// </summary>
internal sealed class LinkedRegions : IAsyncDisposable
{
    private readonly int _bankPort = FreePort.Next();
    private readonly int _schemePort = FreePort.Next();
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _bankServer;
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _schemeServer;
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _bankPeer;
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _schemePeer;
    private readonly IDictionary<string, string?>? _bankSettings;
    private readonly IDictionary<string, string?>? _schemeSettings;

    private LinkedRegions(IDictionary<string, string?>? bank, IDictionary<string, string?>? scheme)
    {
        _bankSettings = bank;
        _schemeSettings = scheme;
        ToScheme = new CuttableLink(_schemePort);
        ToBank = new CuttableLink(_bankPort);
        _bankPeer = Certs.IssueClient("bank-eu", "peer");
        _schemePeer = Certs.IssueClient("scheme-eu", "peer");
        _bankServer = Certs.IssueServer();
        _schemeServer = Certs.IssueServer();
    }

    public TestCertificates Certs { get; } = new();

    public GatewayHost Bank { get; private set; } = null!;

    public GatewayHost Scheme { get; private set; } = null!;

    /// <summary>The bank's way to the scheme.</summary>
    public CuttableLink ToScheme { get; }

    /// <summary>The scheme's way to the bank.</summary>
    public CuttableLink ToBank { get; }

    /// <summary>Starts the scheme, then the bank, each with its own settings on top of the link's.</summary>
    public static async Task<LinkedRegions> StartAsync(IDictionary<string, string?>? bank = null, IDictionary<string, string?>? scheme = null)
    {
        var regions = new LinkedRegions(bank, scheme);
        await regions.StartSchemeAsync();
        await regions.StartBankAsync();
        return regions;
    }

    /// <summary>Starts the scheme region (again, after its host was disposed) on its port.</summary>
    public async Task<GatewayHost> StartSchemeAsync() => Scheme = await GatewayHost.StartAsync("scheme-eu", o =>
    {
        Link(o, _schemeServer);
        o.Peer.Address = $"https://localhost:{ToBank.Port}";
        o.Peer.Region = "bank-eu";
        o.Peer.ClientCertificate = _schemePeer;
    }, _schemeSettings, grpcPort: _schemePort);

    /// <summary>Starts the bank region (again, after its host was disposed) on its port.</summary>
    public async Task<GatewayHost> StartBankAsync() => Bank = await GatewayHost.StartAsync("bank-eu", o =>
    {
        Link(o, _bankServer);
        o.Peer.Address = $"https://localhost:{ToScheme.Port}";
        o.Peer.Region = "scheme-eu";
        o.Peer.ClientCertificate = _bankPeer;
        o.Peer.OwnsServerPools = true;
    }, _bankSettings, grpcPort: _bankPort);

    /// <summary>An API client over TLS to <paramref name="region"/>'s gateway (no client certificate).</summary>
    public Grpc.Net.Client.GrpcChannel Channel(GatewayHost region) => TlsClients.Channel(region.GrpcAddress, Certs.Ca, null);

    /// <summary>Adds servers to the scheme's pool <paramref name="pool"/>, capacity 10 each, at <c>{id}.scheme.example:5000</c>.</summary>
    public async Task AddSchemeServersAsync(string pool, params (string Id, string Zone)[] servers)
    {
        var pools = new ServerPoolService.ServerPoolServiceClient(Channel(Scheme));
        foreach (var (id, zone) in servers)
        {
            await pools.AddServerAsync(new AddServerRequest
            {
                ServerPool = pool,
                Server = new ServerInstance { ServerId = id, Address = $"{id}.scheme.example:5000", Zone = zone, Capacity = 10 },
            }, Operator);
        }
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
        if (Bank is { } bank)
        {
            await bank.DisposeAsync();
        }

        if (Scheme is { } scheme)
        {
            await scheme.DisposeAsync();
        }

        await ToScheme.DisposeAsync();
        await ToBank.DisposeAsync();
        Certs.Dispose();
    }

    private void Link(Hosting.GatewayOptions o, System.Security.Cryptography.X509Certificates.X509Certificate2 server)
    {
        o.Tls.ServerCertificate = server;
        o.Tls.ClientCa = [Certs.Ca];
        o.Peer.TrustedCa = [Certs.Ca];
    }
}
