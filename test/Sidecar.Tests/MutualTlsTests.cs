using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Server;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>
/// Mutual TLS on the ISO link over real TCP, with the certificates as a pod mounts them (PEM files from a Secret):
/// the server admits only clients whose certificate chains to its configured CA (and, when listed, names an allowed
/// peer); the client checks the server's certificate against its own trusted CA and the name it expects.
/// </summary>
public sealed class MutualTlsTests : IDisposable
{
    private const string SchemeName = "scheme.test";
    private readonly TestCertificates _ca = new("Scheme ISO CA");
    private readonly TestCertificates _otherCa = new("Someone Else's CA");
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("oc-mtls-");

    [Fact]
    public async Task An_authorization_crosses_a_mutual_tls_link_end_to_end()
    {
        var logs = new FakeLogger<IsoServer>();
        await using var scheme = new Scheme("scheme", MutualTls(allowed: ["bank-client-0"]), logger: logs);

        await using var bank = await Links.ConnectAsync(scheme.Address, ClientTls(_ca.IssueClient("bank-client-0", "sidecar")));

        var response = await bank.SendAsync(Scheme.Authorization("000001"));
        Assert.Equal(210, response.Mti.Value);
        Assert.Equal("00", response.GetString(39));
        Assert.Single(scheme.Server.Sessions);
        Assert.DoesNotContain(logs.Collector.GetSnapshot(), r => r.Message.Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_certificate_in_pkcs12_works_too()
    {
        await using var scheme = new Scheme("scheme", MutualTls());
        using var certificate = _ca.IssueClient("bank-client-0", "sidecar");
        var pfx = Write("client.pfx", certificate.Export(X509ContentType.Pkcs12, "secret"));

        await using var bank = await Links.ConnectAsync(scheme.Address, o => o.Tls = new TlsOptions
        {
            Enabled = true,
            TargetHost = SchemeName,
            TrustedCaPath = Pem("ca.crt", _ca.Ca),
            CertificatePath = pfx,
            CertificatePassword = "secret",
        });

        Assert.Equal("00", (await bank.SendAsync(Scheme.Authorization("000002"))).GetString(39));
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused_and_the_server_logs_why()
    {
        var logs = new FakeLogger<IsoServer>();
        await using var scheme = new Scheme("scheme", MutualTls(), logger: logs);

        var refusal = await RefusedAsync(scheme, logs, o => o.Tls = new TlsOptions { Enabled = true, TargetHost = SchemeName, TrustedCaPath = Pem("ca.crt", _ca.Ca) });

        Assert.Contains("no certificate was presented", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_certificate_from_another_ca_is_refused()
    {
        var logs = new FakeLogger<IsoServer>();
        await using var scheme = new Scheme("scheme", MutualTls(), logger: logs);

        var refusal = await RefusedAsync(scheme, logs, ClientTls(_otherCa.IssueClient("bank-client-0", "sidecar")));

        Assert.Contains("does not chain to a trusted CA", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Someone Else's CA", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_certificate_of_the_right_ca_but_not_an_allowed_name_is_refused()
    {
        var logs = new FakeLogger<IsoServer>();
        await using var scheme = new Scheme("scheme", MutualTls(allowed: ["bank-client-0"]), logger: logs);

        var refusal = await RefusedAsync(scheme, logs, ClientTls(_ca.IssueClient("intruder", "sidecar")));

        Assert.Contains("names none of the allowed peers", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_client_refuses_a_server_certificate_for_another_name()
    {
        await using var scheme = new Scheme("scheme", MutualTls(serverName: "elsewhere.test"));

        var reason = await ClientRefusesAsync(scheme, ClientTls(_ca.IssueClient("bank-client-0", "sidecar")));

        Assert.Contains($"does not name '{SchemeName}'", reason, StringComparison.Ordinal);
        Assert.Empty(scheme.Server.Sessions);
    }

    [Fact]
    public async Task The_client_refuses_a_server_certificate_from_another_ca()
    {
        await using var scheme = new Scheme("scheme", MutualTls(serverCa: _otherCa));

        var reason = await ClientRefusesAsync(scheme, ClientTls(_ca.IssueClient("bank-client-0", "sidecar")));

        Assert.Contains("server certificate refused", reason, StringComparison.Ordinal);
        Assert.Contains("does not chain to a trusted CA", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sample_scheme_server_enables_mutual_tls_by_configuration()
    {
        var address = $"127.0.0.1:{SchemeProcess.FreePort()}";
        using var server = _ca.IssueServer(SchemeName);
        using var process = await SchemeProcess.StartAsync(address, "scheme-tls", settings:
        [
            "--Tls:Enabled", "true", "--Tls:CertificatePath", Pem("server.crt", server), "--Tls:KeyPath", Key("server.key", server),
            "--Tls:TrustedCaPath", Pem("ca.crt", _ca.Ca), "--Tls:RequireClientCertificate", "true", "--Tls:AllowedClientNames:0", "bank-client-0",
        ]);
        Assert.Contains(process.Output, l => l.Contains("(mutual TLS)", StringComparison.Ordinal));

        await using (var bank = await Links.ConnectAsync(address, ClientTls(_ca.IssueClient("bank-client-0", "sidecar"))))
        {
            Assert.Equal("scheme-tls", (await bank.SendAsync(Scheme.Authorization("000003"))).GetString(44));
        }

        await using var anonymous = new IsoClient(Links.Options(address, o => o.Tls = new TlsOptions { Enabled = true, TargetHost = SchemeName, TrustedCaPath = Pem("ca.crt", _ca.Ca) }));
        var states = new StateLog(anonymous);
        anonymous.Start();
        await Eventually.TrueAsync(() => process.Output.Any(l => l.Contains("no certificate was presented", StringComparison.Ordinal)), TimeSpan.FromSeconds(15), "refusal logged by the sample");
        Assert.False(states.Saw(ConnectionState.SignedOn));
    }

    [Fact]
    public async Task The_sidecar_host_runs_its_link_and_its_relay_on_mutual_tls_by_configuration()
    {
        await using var scheme = new Scheme("scheme", MutualTls(allowed: ["bank-iso-client"]));
        using var linkCertificate = _ca.IssueClient("bank-iso-client", "sidecar");
        using var relayCertificate = _ca.IssueServer("localhost");
        using var appCertificate = _ca.IssueClient("bank-app", "app");
        var ca = Pem("ca.crt", _ca.Ca);
        await using var host = await InProcessSidecar.StartAsync(new()
        {
            ["Sidecar:Link:Server"] = scheme.Address,
            ["Sidecar:Link:Tls:Enabled"] = "true",
            ["Sidecar:Link:Tls:TargetHost"] = SchemeName,
            ["Sidecar:Link:Tls:TrustedCaPath"] = ca,
            ["Sidecar:Link:Tls:CertificatePath"] = Pem("link.crt", linkCertificate),
            ["Sidecar:Link:Tls:KeyPath"] = Key("link.key", linkCertificate),
            ["Sidecar:Relay:Enabled"] = "true",
            ["Sidecar:Relay:Listen"] = "127.0.0.1:0",
            ["Sidecar:Relay:Tls:Enabled"] = "true",
            ["Sidecar:Relay:Tls:CertificatePath"] = Pem("relay.crt", relayCertificate),
            ["Sidecar:Relay:Tls:KeyPath"] = Key("relay.key", relayCertificate),
            ["Sidecar:Relay:Tls:TrustedCaPath"] = ca,
            ["Sidecar:Relay:Tls:RequireClientCertificate"] = "true",
            ["Sidecar:Relay:Tls:AllowedClientNames:0"] = "bank-app",
        });
        var link = host.Services.GetRequiredService<IsoClient>();
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "link signed on over mutual TLS");
        var relay = $"127.0.0.1:{host.Services.GetRequiredService<Relay.SidecarRelay>().Endpoint!.Port}";

        var appTls = new TlsOptions
        {
            Enabled = true,
            TargetHost = "localhost",
            TrustedCaPath = ca,
            CertificatePath = Pem("app.crt", appCertificate),
            KeyPath = Key("app.key", appCertificate),
        };
        await using (var app = await Links.ConnectAsync(relay, o => o.Tls = appTls))
        {
            var answer = await app.SendAsync(Scheme.Authorization("000004"));
            Assert.Equal(("00", "scheme"), (answer.GetString(39), answer.GetString(44)));
        }

        await using var anonymous = new IsoClient(Links.Options(relay, o => o.Tls = new TlsOptions { Enabled = true, TargetHost = "localhost", TrustedCaPath = ca }));
        var states = new StateLog(anonymous);
        anonymous.Start();
        await Task.Delay(1000);
        await Assert.ThrowsAnyAsync<Exception>(() => anonymous.SendAsync(Scheme.Authorization("000005"), TimeSpan.FromSeconds(2)));
        Assert.False(states.Saw(ConnectionState.SignedOn));
        Assert.Single(scheme.Received); // only the authorised app's 0200 reached the scheme
    }

    [Fact]
    public void Mutual_tls_settings_that_cannot_work_are_refused_naming_the_setting()
    {
        var server = new IsoServerOptions { Tls = new TlsOptions { Enabled = true, RequireClientCertificate = true, AllowedClientNames = ["x"] } };
        Assert.Contains("Tls:RequireClientCertificate needs Tls:TrustedCaPath (the CA of the client certificates)", server.Validate());

        var missing = Path.Combine(_dir.FullName, "absent.crt");
        var client = new IsoClientOptions { Tls = new TlsOptions { Enabled = true, TrustedCaPath = missing, AllowUntrustedServer = true, RequireClientCertificate = true } };
        var errors = client.Validate().ToList();
        Assert.Contains($"Tls:TrustedCaPath '{missing}' does not exist", errors);
        Assert.Contains("Tls:TrustedCaPath and Tls:AllowUntrustedServer are exclusive", errors);
        Assert.Contains("Tls:RequireClientCertificate and Tls:AllowedClientNames are server settings", errors);
    }

    /// <summary>The server end: its certificate (for <paramref name="serverName"/>, from <paramref name="serverCa"/>) and the client CA, as PEM files.</summary>
    private Action<IsoServerOptions> MutualTls(string serverName = SchemeName, TestCertificates? serverCa = null, string[]? allowed = null)
    {
        using var certificate = (serverCa ?? _ca).IssueServer(serverName);
        var tls = new TlsOptions
        {
            Enabled = true,
            CertificatePath = Pem($"{serverName}.crt", certificate),
            KeyPath = Key($"{serverName}.key", certificate),
            TrustedCaPath = Pem("ca.crt", _ca.Ca),
            RequireClientCertificate = true,
            AllowedClientNames = [.. allowed ?? []],
        };
        return o => o.Tls = tls;
    }

    /// <summary>The client end: trusts the scheme CA alone, expects <see cref="SchemeName"/>, presents <paramref name="certificate"/>.</summary>
    private Action<IsoClientOptions> ClientTls(X509Certificate2 certificate)
    {
        var name = certificate.GetNameInfo(X509NameType.SimpleName, false) + "-" + certificate.Thumbprint[..8];
        var tls = new TlsOptions
        {
            Enabled = true,
            TargetHost = SchemeName,
            TrustedCaPath = Pem("ca.crt", _ca.Ca),
            CertificatePath = Pem($"{name}.crt", certificate),
            KeyPath = Key($"{name}.key", certificate),
        };
        certificate.Dispose();
        return o => o.Tls = tls;
    }

    /// <summary>Starts a client that the server must refuse; returns the server's log record of the refusal.</summary>
    private static async Task<FakeLogRecord> RefusedAsync(Scheme scheme, FakeLogger<IsoServer> logs, Action<IsoClientOptions> configure)
    {
        await using var client = new IsoClient(Links.Options(scheme.Address, configure));
        var states = new StateLog(client);
        client.Start();
        await Eventually.TrueAsync(() => logs.Collector.GetSnapshot().Any(r => r.Message.Contains("refused", StringComparison.Ordinal)), TimeSpan.FromSeconds(15), "refusal logged");
        await Eventually.TrueAsync(() => states.Saw(ConnectionState.Down), TimeSpan.FromSeconds(15), "client down");
        await Task.Delay(300); // a retry or two more: none of them may sign on
        Assert.False(states.Saw(ConnectionState.SignedOn));
        Assert.Empty(scheme.Server.Sessions);
        var record = logs.Collector.GetSnapshot().First(r => r.Message.Contains("refused", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Null(record.Exception); // the reason, no stack trace
        Assert.Contains("TLS client 127.0.0.1:", record.Message, StringComparison.Ordinal);
        return record;
    }

    /// <summary>Starts a client that must refuse the server; returns the reason its link went down with.</summary>
    private static async Task<string> ClientRefusesAsync(Scheme scheme, Action<IsoClientOptions> configure)
    {
        await using var client = new IsoClient(Links.Options(scheme.Address, configure));
        var states = new StateLog(client);
        client.Start();
        await Eventually.TrueAsync(() => states.Changes.Any(c => c.Current == ConnectionState.Down && c.Reason.Contains("TLS", StringComparison.Ordinal)), TimeSpan.FromSeconds(15), "refused by the client");
        Assert.False(states.Saw(ConnectionState.SignedOn));
        return states.Changes.First(c => c.Current == ConnectionState.Down && c.Reason.Contains("TLS", StringComparison.Ordinal)).Reason;
    }

    private string Pem(string name, X509Certificate2 certificate) => WriteText(name, certificate.ExportCertificatePem());

    private string Key(string name, X509Certificate2 certificate) =>
        WriteText(name, (certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("no EC key")).ExportPkcs8PrivateKeyPem());

    private string WriteText(string name, string text)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
        _dir.Delete(recursive: true);
    }
}
