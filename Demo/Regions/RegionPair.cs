using System.Globalization;
using OrleansControl.Demo.Processes;

namespace OrleansControl.Demo.Regions;

/// <summary>
/// The controllers of one run. Two regions: the bank region's controller (its sidecars attach to it, it owns their
/// registry entries) and the scheme region's (it owns the server pool), separate Orleans clusters whose gateways are
/// linked by mutual TLS through a <see cref="CuttableLink"/> each way, with certificates made for this run. One
/// region: a single controller plays both parts, in plain text on loopback.
/// </summary>
internal sealed class RegionPair : IDisposable
{
    private RegionPair(ControllerProcess bank, ControllerProcess scheme, DemoCertificates? certificates,
        CuttableLink? toScheme, CuttableLink? toBank, IReadOnlyDictionary<string, string>? sidecarCredentials)
    {
        Bank = bank;
        Scheme = scheme;
        Certificates = certificates;
        ToScheme = toScheme;
        ToBank = toBank;
        SidecarCredentialsBase = sidecarCredentials;
    }

    /// <summary>Where the bank's sidecars attach and their connections are registered.</summary>
    public ControllerProcess Bank { get; }

    /// <summary>Where the server pool is declared (the same process as <see cref="Bank"/> in one region).</summary>
    public ControllerProcess Scheme { get; }

    public bool Two => !ReferenceEquals(Bank, Scheme);

    public DemoCertificates? Certificates { get; }

    /// <summary>The bank gateway's way to the scheme gateway (null in one region).</summary>
    public CuttableLink? ToScheme { get; }

    /// <summary>The scheme gateway's way to the bank gateway (null in one region).</summary>
    public CuttableLink? ToBank { get; }

    private IReadOnlyDictionary<string, string>? SidecarCredentialsBase { get; }

    public IEnumerable<ControllerProcess> Controllers => Two ? [Bank, Scheme] : [Bank];

    public string Describe() => Two
        ? "two regions: bank and scheme controllers, linked by mutual TLS (certificates made for this run)"
        : "one region: bank and scheme share one controller";

    public static RegionPair One()
    {
        var controller = new ControllerProcess("local", "scheme");
        return new RegionPair(controller, controller, null, null, null, null);
    }

    public static RegionPair TwoLinked(string certificateFolder)
    {
        var certs = new DemoCertificates(certificateFolder);
        var operatorCert = certs.ClientInMemory("demo-operator", "operator");
        Func<HttpMessageHandler> handler = () => certs.Handler(operatorCert);
        var bank = new ControllerProcess("bank", "bank", restHandler: handler, scheme: "https");
        var scheme = new ControllerProcess("scheme", "scheme", restHandler: handler, scheme: "https");
        var toScheme = new CuttableLink(scheme.GrpcPort);
        var toBank = new CuttableLink(bank.GrpcPort);
        Configure(bank, certs, peer: scheme, via: toScheme, ownsPools: false);
        Configure(scheme, certs, peer: bank, via: toBank, ownsPools: false);
        bank.Set("Gateway__Peer__OwnsServerPools", "true");
        return new RegionPair(bank, scheme, certs, toScheme, toBank, new Dictionary<string, string>
        {
            ["Sidecar:Agent:AllowUntrustedController"] = "true", // the sidecar host has no setting for a private CA
        });
    }

    /// <summary>What a sidecar needs to attach to <see cref="Bank"/>: nothing in one region, its certificate in two.</summary>
    public IReadOnlyDictionary<string, string>? SidecarCredentials(string sidecarId)
    {
        if (Certificates is null)
        {
            return null;
        }

        return new Dictionary<string, string>(SidecarCredentialsBase!)
        {
            ["Sidecar:Agent:ClientCertificatePath"] = Certificates.Client(sidecarId, "sidecar"),
            ["Sidecar:Agent:Region"] = Bank.Region,
        };
    }

    public void Dispose()
    {
        ToScheme?.Dispose();
        ToBank?.Dispose();
        Bank.Dispose();
        if (Two)
        {
            Scheme.Dispose();
        }

        Certificates?.Dispose();
    }

    private static void Configure(ControllerProcess self, DemoCertificates certs, ControllerProcess peer, CuttableLink via, bool ownsPools)
    {
        self.Set("Gateway__Tls__CertificatePath", certs.Server(self.Region));
        self.Set("Gateway__Tls__ClientCaPath", certs.CaPath);
        self.Set("Gateway__Peer__Address", $"https://localhost:{via.Port.ToString(CultureInfo.InvariantCulture)}");
        self.Set("Gateway__Peer__Region", peer.Region);
        // The peer identity is the region: CN = own region, OU = peer.
        self.Set("Gateway__Peer__ClientCertificatePath", certs.Client(self.Region, "peer"));
        self.Set("Gateway__Peer__TrustedCaPath", certs.CaPath);
        self.Set("Gateway__Peer__OwnsServerPools", ownsPools ? "true" : "false");
        self.Set("Gateway__Peer__SyncInterval", "00:00:01");
        self.Set("Gateway__Peer__CallDeadline", "00:00:02");
        self.Set("Gateway__Peer__MaxRetries", "1");
        self.Set("Gateway__Peer__BreakerFailureThreshold", "2");
        self.Set("Gateway__Peer__BreakerOpenDuration", "00:00:01");
    }
}
