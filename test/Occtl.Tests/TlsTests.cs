using System.Security.Cryptography.X509Certificates;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Occtl.Tests.Infrastructure;

namespace OrleansControl.Occtl.Tests;

public sealed class TlsGatewayFixture : IAsyncLifetime
{
    public TestCertificates Certificates { get; } = new();

    public ControllerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ControllerHost.StartAsync(tls: Certificates);

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Certificates.Dispose();
    }
}

/// <summary>A gateway with TLS and client certificates: occtl with a PFX (OU = operator) and the private CA's PEM.</summary>
public sealed class TlsTests(TlsGatewayFixture fixture) : IClassFixture<TlsGatewayFixture>, IDisposable
{
    private readonly OcctlRunner _occtl = new(fixture.Host.GrpcAddress, token: null);

    private string CaPem()
    {
        var path = Path.Combine(_occtl.Home, "ca.pem");
        File.WriteAllText(path, fixture.Certificates.Ca.ExportCertificatePem());
        return path;
    }

    private string OperatorPfx(string password)
    {
        using var cert = fixture.Certificates.IssueClient("bob", "operator");
        var path = Path.Combine(_occtl.Home, "bob.pfx");
        File.WriteAllBytes(path, cert.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    [Fact]
    public async Task A_client_certificate_and_the_private_CA_authenticate_an_operator()
    {
        _occtl.Environment["OCCTL_CERT_PASSWORD"] = "pfx-password";

        var result = await _occtl.RunAsync("connections", "--ca", CaPem(), "--cert", OperatorPfx("pfx-password"));

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task Without_the_CA_the_gateways_certificate_is_not_trusted_exit_2()
    {
        var result = await _occtl.RunAsync("connections", "--cert", OperatorPfx("p"), "--cert-password", "p");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("TLS with localhost", result.Error);
        Assert.Contains("--ca", result.Error);
    }

    [Fact]
    public async Task A_wrong_pfx_password_is_exit_2_naming_the_file()
    {
        var pfx = OperatorPfx("right");

        var result = await _occtl.RunAsync("connections", "--ca", CaPem(), "--cert", pfx, "--cert-password", "wrong");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith($"occtl: client certificate {pfx}: cannot read the PFX", result.Error);
    }

    [Fact]
    public async Task Without_a_certificate_the_TLS_gateway_refuses_exit_6()
    {
        var result = await _occtl.RunAsync("connections", "--ca", CaPem());

        Assert.Equal(ExitCodes.NotAuthenticated, result.ExitCode);
        Assert.StartsWith("occtl: ListConnections: UNAUTHENTICATED", result.Error);
    }

    public void Dispose() => _occtl.Dispose();
}
