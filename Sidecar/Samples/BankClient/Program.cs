using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrleansControl.Codec;
using OrleansControl.Samples.BankClient;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Hosting;

// A bank-side ISO 8583 application: sends 0200s at a steady rate and counts outcomes: approved, declined, not sent,
// unknown fate (and of those, reversed by the sidecar).
// Configuration (args --Key value or env BANK__KEY): Server (127.0.0.1:8583, e.g. the sidecar's relay or a
// scheme server), Rate per second (10), Duration in seconds (0 = until stopped), ReportEvery in milliseconds (1000),
// TerminalId, InstitutionId, ProbePort (0 = none: /healthz and /readyz for the kubelet, ready while the link is signed
// on), Tls:* (TlsOptions: off unless Tls:Enabled; Tls:TrustedCaPath and Tls:TargetHost to check the server, Tls:CertificatePath
// and Tls:KeyPath for the client certificate of mutual TLS). Each report line ends with the approvals per answering server (field 44).
var config = new ConfigurationBuilder().AddEnvironmentVariables("BANK__").AddCommandLine(args).Build();
var rate = Math.Max(1, int.TryParse(config["Rate"], out var r) ? r : 10);
var duration = TimeSpan.FromSeconds(int.TryParse(config["Duration"], out var d) ? d : 0);
var reportEvery = TimeSpan.FromMilliseconds(Math.Max(50, int.TryParse(config["ReportEvery"], out var e) ? e : 1000));
var options = new IsoClientOptions
{
    Name = "bank-client",
    Server = config["Server"] ?? "127.0.0.1:8583",
    InstitutionId = config["InstitutionId"] ?? "12345",
    Tls = config.GetSection("Tls").Get<OrleansControl.Sidecar.Connections.TlsOptions>(),
};
if (options.Validate().ToList() is { Count: > 0 } errors)
{
    Console.Error.WriteLine($"invalid configuration: {string.Join("; ", errors)}");
    return 2;
}


// Logging:Console:* from the plain environment (Logging__Console__FormatterName=json), as in the sidecar host.
var logging = new ConfigurationBuilder().AddConsoleLogDefaults().AddEnvironmentVariables().AddCommandLine(args).Build().GetSection("Logging");
using var loggers = LoggerFactory.Create(b => b.AddConfiguration(logging).AddConsole());
await using var link = new IsoClient(options, logger: loggers.CreateLogger<IsoClient>());
link.Start();
await using var probes = int.TryParse(config["ProbePort"], out var probePort) && probePort > 0
    ? new ProbeListener(probePort, () => link.State is OrleansControl.Sidecar.Health.ConnectionState.SignedOn or OrleansControl.Sidecar.Health.ConnectionState.Degraded)
    : null;
probes?.Start();
var spec = MessageSpec.BuiltIn(options.Spec);
var traffic = new AuthorizationTraffic(link, config["TerminalId"] ?? "TERM0001");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
// SIGTERM too (a container's stop, a supervisor's): finish what is in flight and print the last report.
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
if (duration > TimeSpan.Zero)
{
    stop.CancelAfter(duration);
}

var clock = Stopwatch.StartNew();
var pending = new List<Task>();
long sent = 0;
var nextReport = reportEvery;
try
{
    while (!stop.IsCancellationRequested)
    {
        // Pace by elapsed time so a slow tick does not lower the rate.
        var due = (long)(clock.Elapsed.TotalSeconds * rate);
        for (; sent < due; sent++)
        {
            pending.Add(traffic.SendOneAsync(spec, 100 + (sent % 9_900)));
        }

        pending.RemoveAll(t => t.IsCompleted);
        if (clock.Elapsed >= nextReport)
        {
            Console.WriteLine($"t={clock.Elapsed.TotalSeconds:F1}s state={link.State} sent={sent} {traffic.Outcomes} {traffic.Outcomes.DescribeApprovedBy()}");
            nextReport += reportEvery;
        }

        await Task.Delay(5, stop.Token);
    }
}
catch (OperationCanceledException)
{
}

await Task.WhenAll(pending);
Console.WriteLine($"done: sent={sent} {traffic.Outcomes} {traffic.Outcomes.DescribeApprovedBy()}");
return 0;
