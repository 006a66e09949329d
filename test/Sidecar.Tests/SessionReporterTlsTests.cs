using System.Security.Cryptography.X509Certificates;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Sidecar.Server;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>
/// The server side's session reporter reaches a controller the way the agent does (the same settings and TLS code,
/// ControllerAccessOptions): a private CA for the gateway's certificate, a client certificate where the gateway requires one.
/// </summary>
public sealed class SessionReporterTlsTests : IDisposable
{
    private readonly TestCertificates _ca = new("Controller private CA");
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("oc-reporter-tls-");

    [Fact]
    public async Task With_the_private_ca_and_a_client_certificate_the_reporter_attaches_over_mutual_tls_and_reports()
    {
        await using var scheme = new Scheme("srv-a");
        using var certificate = _ca.IssueServer("localhost");
        await using var controller = await FakeController.StartAsync(certificate: certificate, clientCa: _ca.Ca);
        var options = Options(controller.Address);
        options.TrustedCaPath = CaFile();
        options.ClientCertificatePath = ClientFile("srv-a-sidecar");
        Assert.Empty(options.Validate());
        await using var reporter = new ServerSessionReporter(scheme.Server, options);

        reporter.Start();
        await Eventually.TrueAsync(() => controller.Shared.Received.Any(m => m.BodyCase == SidecarMessage.BodyOneofCase.SessionReport),
            TimeSpan.FromSeconds(15), "a session report over mutual TLS");

        Assert.True(reporter.Attached);
        Assert.StartsWith("https://", controller.Address, StringComparison.Ordinal);
        Assert.Equal("srv-a", controller.Shared.Received.First(m => m.BodyCase == SidecarMessage.BodyOneofCase.SessionReport).SessionReport.ServerId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Without_the_client_certificate_or_the_private_ca_it_never_attaches_and_says_which(bool withCa)
    {
        await using var scheme = new Scheme("srv-a");
        using var certificate = _ca.IssueServer("localhost");
        await using var controller = await FakeController.StartAsync(certificate: certificate, clientCa: _ca.Ca);
        var options = Options(controller.Address);
        options.Prefix = "ControllerTls";
        // With the CA but no client certificate the gateway refuses the handshake; without the CA the reporter refuses it.
        options.TrustedCaPath = withCa ? CaFile() : null;
        options.ClientCertificatePath = withCa ? null : ClientFile("srv-a-sidecar");
        await using var reporter = new ServerSessionReporter(scheme.Server, options);

        reporter.Start();
        await Task.Delay(TimeSpan.FromSeconds(2)); // several attempts

        Assert.False(reporter.Attached);
        Assert.Empty(controller.Shared.Received);
        Assert.NotNull(reporter.LastError);
        if (!withCa)
        {
            Assert.Contains("ControllerTls:TrustedCaPath", reporter.LastError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Settings_that_cannot_work_are_refused_naming_the_setting()
    {
        await using var scheme = new Scheme("x");
        var options = Options("https://localhost:1");
        options.TrustedCaPath = Path.Combine(_dir.FullName, "missing.pem");
        options.ClientCertificatePath = Path.Combine(_dir.FullName, "missing.pfx");
        options.BearerToken = "t";
        options.BearerTokenPath = Path.Combine(_dir.FullName, "missing.token");

        var errors = options.Validate().ToList();

        Assert.Contains(errors, e => e.StartsWith("TrustedCaPath '", StringComparison.Ordinal) && e.EndsWith("' does not exist", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ClientCertificatePath '", StringComparison.Ordinal));
        Assert.Contains("BearerToken and BearerTokenPath are exclusive", errors);
        Assert.Throws<ArgumentException>(() => new ServerSessionReporter(scheme.Server, options));
    }

    private static ServerSessionReportOptions Options(string controller) => new()
    {
        Controller = controller,
        ServerId = "srv-a",
        ServerPool = "scheme",
        SidecarId = "srv-a-sidecar",
        ReportInterval = TimeSpan.FromMilliseconds(200),
        RetryInitialDelay = TimeSpan.FromMilliseconds(100),
        RetryMaxDelay = TimeSpan.FromMilliseconds(300),
    };

    private string CaFile()
    {
        var path = Path.Combine(_dir.FullName, "ca.crt");
        File.WriteAllText(path, _ca.Ca.ExportCertificatePem());
        return path;
    }

    private string ClientFile(string sidecarId)
    {
        using var client = _ca.IssueClient(sidecarId, "sidecar");
        var path = Path.Combine(_dir.FullName, $"{sidecarId}.pfx");
        File.WriteAllBytes(path, client.Export(X509ContentType.Pkcs12, ""));
        return path;
    }

    public void Dispose()
    {
        _ca.Dispose();
        _dir.Delete(recursive: true);
    }
}
