using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Runtime;
using Orleans.TestingHost;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Tests.Infrastructure;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Grains.Tests.Cluster;

/// <summary>
/// Two silos (and the client) on TLS with certificates from files, each chaining to the cluster's CA: the cluster
/// works across silos; a silo whose certificate comes from another CA never joins, and a connection without a
/// certificate is refused at the handshake.
/// </summary>
public sealed class SiloTlsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("oc-silo-tls-").FullName;
    private SiloTlsOptions _cluster = null!;
    private SiloTlsOptions _rogue = null!;
    private SiloTlsOptions _next = null!;
    private InProcessTestCluster _testCluster = null!;

    public async Task InitializeAsync()
    {
        using var ca = CreateCa("OrleansControl silo CA");
        using var otherCa = CreateCa("Someone else's CA");
        _cluster = Write("cluster", ca, ca);
        _rogue = Write("rogue", otherCa, otherCa);
        _next = _cluster;

        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddControllerProviders(new ControllerSiloOptions(), TestSettings.SlowHealth());
            silo.UseControllerSiloTls(_next);
        });
        builder.ConfigureClient(client =>
        {
            client.AddMemoryStreams(ControllerStreams.ProviderName);
            client.UseControllerClientTls(_cluster);
        });
        _testCluster = builder.Build();
        await _testCluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _testCluster.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Two_silos_with_certificates_from_the_cluster_ca_form_a_cluster_and_serve_grains()
    {
        var hosts = await _testCluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(2, hosts.Count);

        // Enough pools that some live on each silo: calls cross the silo-to-silo link.
        for (var i = 0; i < 20; i++)
        {
            var pool = _testCluster.Client.GetGrain<IServerPoolGrain>($"tls-pool-{i}");
            await pool.AddOrUpdateServer(new ServerDefinition("s1", "10.0.0.1:5000", "a", 1));
            Assert.Single((await pool.GetSnapshot()).Servers);
        }
    }

    [Fact]
    public async Task A_silo_with_a_certificate_from_another_ca_never_joins()
    {
        _next = _rogue;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var joining = _testCluster.StartAdditionalSiloAsync();
        var finished = await Task.WhenAny(joining, Task.Delay(TimeSpan.FromSeconds(90), deadline.Token));
        _next = _cluster;

        if (finished == joining && joining.IsCompletedSuccessfully)
        {
            // Started as a process, but the cluster never admitted it.
            var hosts = await _testCluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            var rogue = await joining;
            Assert.DoesNotContain(rogue.SiloAddress, hosts.Keys);
            await _testCluster.KillSiloAsync(rogue);
        }
        else
        {
            Assert.True(finished == joining, "the rogue silo neither failed nor started within 90 s");
            Assert.True(joining.IsFaulted || joining.IsCanceled, "the rogue silo's start-up should fail");
        }
        var active = await _testCluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(2, active.Count);
    }

    [Fact]
    public async Task A_third_silo_with_a_certificate_from_the_cluster_ca_joins()
    {
        var third = await _testCluster.StartAdditionalSiloAsync();
        var hosts = await _testCluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Contains(third.SiloAddress, hosts.Keys);
        await _testCluster.StopSiloAsync(third);
    }

    /// <summary>On a real TCP silo port (the silo's own host): no client certificate, no session.</summary>
    [Fact]
    public async Task A_connection_without_a_certificate_is_refused_at_the_handshake()
    {
        var settings = OrleansControl.Grains.Tests.Silo.SiloHost.Ports();
        settings["Controller:SiloTls:Enabled"] = "true";
        settings["Controller:SiloTls:CertificatePath"] = _cluster.CertificatePath;
        settings["Controller:SiloTls:KeyPath"] = _cluster.KeyPath;
        settings["Controller:SiloTls:CaPath"] = _cluster.CaPath;
        await using var app = OrleansControl.Grains.Tests.Silo.SiloHost.Build(settings);
        await app.StartAsync();
        var port = int.Parse(settings["Controller:SiloPort"]!, System.Globalization.CultureInfo.InvariantCulture);

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        var refused = await Record.ExceptionAsync(async () =>
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "silo" });
            // TLS 1.3 reports a missing client certificate only on the first read.
            var buffer = new byte[1];
            var read = await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (read == 0) throw new IOException("closed by the silo");
        });
        await app.StopAsync();

        Assert.True(refused is AuthenticationException or IOException, $"expected a refused handshake, got {refused?.GetType().Name ?? "a session"}");
    }

    [Fact]
    public void Only_certificates_chaining_to_the_ca_are_admitted()
    {
        var ca = new X509Certificate2Collection();
        ca.ImportFromPemFile(_cluster.CaPath!);
        using var good = X509Certificate2.CreateFromPemFile(_cluster.CertificatePath!, _cluster.KeyPath);
        using var rogue = X509Certificate2.CreateFromPemFile(_rogue.CertificatePath!, _rogue.KeyPath);

        Assert.True(SiloTlsHosting.IsAdmitted(good, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors, ca));
        Assert.False(SiloTlsHosting.IsAdmitted(rogue, SslPolicyErrors.RemoteCertificateChainErrors, ca));
        Assert.False(SiloTlsHosting.IsAdmitted(null, SslPolicyErrors.RemoteCertificateNotAvailable, ca));
    }

    private SiloTlsOptions Write(string name, X509Certificate2 issuer, X509Certificate2 trusted)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=orleanscontrol-silo-{name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // A silo is a server to its peers and a client of them.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var cert = request.Create(issuer, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(12));
        var options = new SiloTlsOptions
        {
            Enabled = true,
            CertificatePath = Path.Combine(_dir, $"{name}.crt"),
            KeyPath = Path.Combine(_dir, $"{name}.key"),
            CaPath = Path.Combine(_dir, $"{name}-ca.crt"),
            HandshakeTimeout = TimeSpan.FromSeconds(5),
        };
        File.WriteAllText(options.CertificatePath, cert.ExportCertificatePem());
        File.WriteAllText(options.KeyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(options.CaPath, trusted.ExportCertificatePem());
        return options;
    }

    private static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        return X509CertificateLoader.LoadPkcs12(ca.Export(X509ContentType.Pkcs12), null);
    }
}
