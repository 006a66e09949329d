using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>
/// The agent against a controller whose certificate comes from a private CA (as in deploy/: Secret
/// orleanscontrol-ca): with <c>Sidecar:Agent:TrustedCaPath</c> it attaches over TLS with verification on; without it,
/// or with another CA, it never attaches and says why.
/// </summary>
public sealed class AgentPrivateCaTests : IDisposable
{
    private readonly TestCertificates _ca = new("Controller private CA");
    private readonly TestCertificates _otherCa = new("Another private CA");
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("oc-agent-ca-");

    [Fact]
    public async Task With_the_private_ca_trusted_the_agent_attaches_over_tls()
    {
        await using var scheme = new Scheme("A");
        using var certificate = _ca.IssueServer("localhost");
        await using var controller = await FakeController.StartAsync(assign: scheme.Address, certificate: certificate);
        await using var link = new IsoClient(Links.Options(server: ""));
        var options = AgentTests.AgentOptions(controller.Address);
        options.TrustedCaPath = CaFile(_ca);
        Assert.Empty(options.Validate());
        using var agent = new SidecarAgent(link, Options.Create(options), NullLogger<SidecarAgent>.Instance);

        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => agent.Status().ControllerAttached, TimeSpan.FromSeconds(15), "attached");
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "signed on to the assigned server");

        Assert.StartsWith("https://", controller.Address, StringComparison.Ordinal);
        Assert.Single(controller.Shared.Registrations);
        await agent.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Without_the_private_ca_the_agent_does_not_attach_and_says_the_certificate_is_not_trusted(bool trustAnotherCa)
    {
        using var certificate = _ca.IssueServer("localhost");
        await using var controller = await FakeController.StartAsync(certificate: certificate);
        await using var link = new IsoClient(Links.Options(server: ""));
        var options = AgentTests.AgentOptions(controller.Address);
        options.TrustedCaPath = trustAnotherCa ? CaFile(_otherCa) : null;
        using var agent = new SidecarAgent(link, Options.Create(options), NullLogger<SidecarAgent>.Instance);

        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => agent.Status().ControllerError is not null, TimeSpan.FromSeconds(15), "an error reported");
        await Task.Delay(500); // several retries: none may attach

        var status = agent.Status();
        Assert.False(status.ControllerAttached);
        Assert.Empty(controller.Shared.Registrations);
        Assert.Contains("certificate", status.ControllerError, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Sidecar:Agent:TrustedCaPath", status.ControllerError, StringComparison.Ordinal);
        await agent.StopAsync(CancellationToken.None);
    }

    private string CaFile(TestCertificates ca)
    {
        var path = Path.Combine(_dir.FullName, $"{ca.Ca.Thumbprint}.crt");
        File.WriteAllText(path, ca.Ca.ExportCertificatePem());
        return path;
    }

    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
        _dir.Delete(recursive: true);
    }
}
