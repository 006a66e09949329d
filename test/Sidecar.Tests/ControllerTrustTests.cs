using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>The agent against a controller whose certificate a private CA issued (https on a real Kestrel port).</summary>
public sealed class ControllerTrustTests : IDisposable
{
    private readonly TestCertificates _ca = new("Private Test CA");
    private readonly string _dir = Directory.CreateTempSubdirectory("oc-ca-").FullName;

    private string WritePem(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, string name)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    private static async Task<SidecarAgent> StartAgent(string controller, Action<SidecarAgentOptions> configure, IsoClient link)
    {
        var options = AgentTests.AgentOptions(controller);
        configure(options);
        Assert.Empty(options.Validate());
        var agent = new SidecarAgent(link, Options.Create(options), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        return agent;
    }

    [Fact]
    public async Task With_TrustedCaPath_the_agent_attaches_to_a_controller_of_a_private_CA()
    {
        await using var controller = await FakeController.StartAsync(certificate: _ca.IssueServer());
        Assert.StartsWith("https://", controller.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = await StartAgent(controller.Address, o => o.TrustedCaPath = WritePem(_ca.Ca, "ca.pem"), link);

        await Eventually.TrueAsync(() => agent.Attached, TimeSpan.FromSeconds(10), "attached over TLS");
        Assert.Single(controller.Shared.Registrations);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Without_it_or_with_another_CA_the_agent_says_in_words_why_the_controller_is_not_trusted()
    {
        await using var controller = await FakeController.StartAsync(certificate: _ca.IssueServer());
        using var other = new TestCertificates("Some Other CA");
        foreach (var (trustedCa, expected) in new[]
        {
            ((string?)null, "does not chain to a root this machine trusts (its issuer is not known here); for a private CA set Sidecar:Agent:TrustedCaPath"),
            (WritePem(other.Ca, "other.pem"), "does not chain to the CA in Sidecar:Agent:TrustedCaPath"),
        })
        {
            await using var link = new IsoClient(Links.Options(server: ""));
            using var agent = await StartAgent(controller.Address, o => o.TrustedCaPath = trustedCa, link);
            await Eventually.TrueAsync(() => agent.Status().ControllerError is not null, TimeSpan.FromSeconds(10), "a refusal");
            var error = agent.Status().ControllerError!;
            Assert.StartsWith("TLS: the controller's certificate (CN=localhost, issued by CN=Private Test CA)", error);
            Assert.Contains(expected, error);
            Assert.DoesNotContain("PartialChain", error);
            Assert.DoesNotContain("   at ", error);
            Assert.False(agent.Attached);
            Assert.Empty(controller.Shared.Registrations);
            await agent.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_controller_certificate_for_another_host_is_refused_naming_the_host()
    {
        await using var controller = await FakeController.StartAsync(certificate: _ca.IssueServer("gateway.elsewhere.test"));
        await using var link = new IsoClient(Links.Options(server: ""));
        var address = controller.Address.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        using var agent = await StartAgent(address, o => o.TrustedCaPath = WritePem(_ca.Ca, "ca.pem"), link);
        await Eventually.TrueAsync(() => agent.Status().ControllerError is not null, TimeSpan.FromSeconds(10), "a refusal");
        Assert.Contains("does not name the host localhost", agent.Status().ControllerError);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void A_TrustedCaPath_without_a_certificate_fails_validation()
    {
        var path = Path.Combine(_dir, "empty.pem");
        File.WriteAllText(path, "not a certificate");
        var options = AgentTests.AgentOptions("https://localhost:1");
        options.TrustedCaPath = path;
        Assert.Contains(options.Validate(), e => e.Contains("holds no PEM certificate", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
