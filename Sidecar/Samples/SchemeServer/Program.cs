using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrleansControl.Samples.SchemeServer;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Hosting;
using OrleansControl.Sidecar.Kafka;
using OrleansControl.Sidecar.Server;

// A scheme-side ISO 8583 server that approves 0200s and acknowledges 0420/0421 reversals with 0430. Configuration (args --Key value or env SCHEME__KEY):
//   Listen (0.0.0.0:5000), ServerId (scheme-1), MaxSessions (1000), Spec, Framing; Tls:* (TlsOptions: off unless
//   Tls:Enabled; mutual TLS with Tls:CertificatePath, Tls:KeyPath, Tls:TrustedCaPath, Tls:RequireClientCertificate and
//   optionally Tls:AllowedClientNames:0..n); and, to act on the controller's oc.server.stop-sending events,
//   Kafka:BootstrapServers (off when empty) with Kafka:* (docs/events.md).
// With Controller (gRPC addresses, comma-separated) it is also its own server-side sidecar: it reports the sessions it
// holds to the controller (ServerPool (scheme), SidecarId ({ServerId}-sidecar), ReportInterval (00:00:02)), reaching it
// as the sidecar agent does: BearerToken or BearerTokenPath, ControllerTls:TrustedCaPath (a private CA's PEM),
// ControllerTls:ClientCertificatePath (+ ClientCertificatePassword; PKCS#12, OU=sidecar, CN=its SidecarId),
// ControllerTls:AllowUntrustedController (dev only).
var config = new ConfigurationBuilder().AddEnvironmentVariables("SCHEME__").AddCommandLine(args).Build();
// Every bad setting at once, each by its name, exit code 2, no stack trace (as the silo and the sidecar host refuse).
var errors = new List<string>();
T Read<T>(string key, T fallback, Func<string, (bool Ok, T Value)> parse, string expected)
{
    if (config[key] is not { } text)
        return fallback;
    var (ok, value) = parse(text);
    if (!ok)
        errors.Add($"{key}: '{text}' is not {expected}");
    return ok ? value : fallback;
}

T? Bind<T>(string section)
{
    try
    {
        return config.GetSection(section).Get<T>();
    }
    catch (InvalidOperationException e)
    {
        errors.Add(e.Message);
        return default;
    }
}

var options = new IsoServerOptions
{
    Name = config["ServerId"] ?? "scheme-1",
    Listen = config["Listen"] ?? "0.0.0.0:5000",
    ListenSetting = "Listen (--Listen or SCHEME__LISTEN)",
    MaxSessions = Read("MaxSessions", 1000, t => (int.TryParse(t, out var v), v), "a whole number"),
};
options.Tls = Bind<TlsOptions>("Tls");
options.Spec = config["Spec"] ?? options.Spec;
options.Framing = config["Framing"] ?? options.Framing;
errors.AddRange(options.Validate());
var reporting = new ServerSessionReportOptions
{
    Controller = config["Controller"],
    ServerId = options.Name,
    ServerPool = config["ServerPool"] ?? "scheme",
    SidecarId = config["SidecarId"] ?? $"{options.Name}-sidecar",
    ReportInterval = Read("ReportInterval", TimeSpan.FromSeconds(2),
        t => (TimeSpan.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var v), v), "a duration such as 00:00:02"),
    Prefix = "ControllerTls",
    BearerToken = config["BearerToken"],
    BearerTokenPath = config["BearerTokenPath"],
    TrustedCaPath = config["ControllerTls:TrustedCaPath"],
    ClientCertificatePath = config["ControllerTls:ClientCertificatePath"],
    ClientCertificatePassword = config["ControllerTls:ClientCertificatePassword"],
    AllowUntrustedController = Read("ControllerTls:AllowUntrustedController", false, t => (bool.TryParse(t, out var v), v), "true or false"),
};
errors.AddRange(reporting.Validate());
var bus = Bind<StopSendingOptions>(StopSendingOptions.Section) ?? new StopSendingOptions();
bus.ServerId = string.IsNullOrEmpty(bus.ServerId) ? options.Name : bus.ServerId;
if (bus.Enabled && bus.FindProblem() is { } busProblem)
    errors.Add($"{StopSendingOptions.Section}:{busProblem}");

// Logging:Console:* from the plain environment (Logging__Console__FormatterName=json), as in the sidecar host.
var logging = new ConfigurationBuilder().AddConsoleLogDefaults().AddEnvironmentVariables().AddCommandLine(args).Build().GetSection("Logging");
using var loggers = LoggerFactory.Create(b => b.AddConfiguration(logging).AddConsole());
var responder = new AuthorizationResponder(options.Name);
if (errors.Count > 0)
{
    Console.Error.WriteLine($"scheme-server: cannot start: {errors.Count} invalid setting{(errors.Count == 1 ? "" : "s")}:{Environment.NewLine}"
        + string.Join(Environment.NewLine, errors.Select(e => $"  - {e}")));
    return 2;
}

await using var server = new IsoServer(options, responder, loggers.CreateLogger<IsoServer>());
server.Start();
Console.WriteLine($"scheme server {options.Name} listening on {server.Endpoint}{(options.Tls is { Enabled: true } tls ? tls.RequireClientCertificate ? " (mutual TLS)" : " (TLS)" : "")}");
await using var reporter = new ServerSessionReporter(server, reporting, loggers.CreateLogger<ServerSessionReporter>());
reporter.Start();

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();

using var stopSending = bus.Enabled ? new StopSendingConsumer(server, bus, loggers.CreateLogger<StopSendingConsumer>()) : null;
var consuming = stopSending?.RunAsync(stop.Token) ?? Task.CompletedTask;
try
{
    while (!stop.IsCancellationRequested)
    {
        await Task.Delay(TimeSpan.FromSeconds(5), stop.Token);
        Console.WriteLine($"sessions={server.Sessions.Count} answered={responder.Answered} reversals={responder.Reversals}");
    }
}
catch (OperationCanceledException)
{
}

await consuming;
return 0;
