using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Server;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

public sealed class TlsTests
{
    [Fact]
    public async Task Link_runs_over_tls_and_refuses_an_untrusted_server_unless_allowed()
    {
        using var certificate = SelfSigned("scheme.test");
        var scheme = new Scheme();
        await using var server = new IsoServer(
            new IsoServerOptions { Listen = "127.0.0.1:0", Tls = new TlsOptions { Enabled = true } },
            scheme, certificate);
        server.Start();
        var address = $"127.0.0.1:{server.Endpoint!.Port}";

        await using var trusting = await Links.ConnectAsync(address, o => o.Tls = new TlsOptions { Enabled = true, TargetHost = "scheme.test", AllowUntrustedServer = true });
        Assert.Equal("00", (await trusting.SendAsync(Scheme.Authorization("000001"))).GetString(39));

        await using var strict = new IsoClient(Links.Options(address, o => o.Tls = new TlsOptions { Enabled = true, TargetHost = "scheme.test" }));
        var states = new StateLog(strict);
        strict.Start();
        await Eventually.TrueAsync(() => states.Saw(Health.ConnectionState.Down), TimeSpan.FromSeconds(10), "refused");
        Assert.False(states.Saw(Health.ConnectionState.SignedOn));
        Assert.Contains(states.Changes, c => c.Current == Health.ConnectionState.Down && c.Reason.Contains("certificate", StringComparison.OrdinalIgnoreCase));
        await scheme.DisposeAsync();
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }
}
