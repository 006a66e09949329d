using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrleansControl.Samples.SchemeServer;
using OrleansControl.Sidecar.Hosting;
using OrleansControl.Sidecar.Server;

// A scheme-side ISO 8583 server that approves 0200s and acknowledges 0420/0421 reversals with 0430. Configuration (args --Key value or env SCHEME__KEY):
//   Listen (0.0.0.0:5000), ServerId (scheme-1), MaxSessions (1000), Spec, Framing.
var config = new ConfigurationBuilder().AddEnvironmentVariables("SCHEME__").AddCommandLine(args).Build();
var options = new IsoServerOptions
{
    Name = config["ServerId"] ?? "scheme-1",
    Listen = config["Listen"] ?? "0.0.0.0:5000",
    ListenSetting = "Listen (--Listen or SCHEME__LISTEN)",
    MaxSessions = int.TryParse(config["MaxSessions"], out var max) ? max : 1000,
};
options.Spec = config["Spec"] ?? options.Spec;
options.Framing = config["Framing"] ?? options.Framing;

// Logging:Console:* from the plain environment (Logging__Console__FormatterName=json), as in the sidecar host.
var logging = new ConfigurationBuilder().AddConsoleLogDefaults().AddEnvironmentVariables().AddCommandLine(args).Build().GetSection("Logging");
using var loggers = LoggerFactory.Create(b => b.AddConfiguration(logging).AddConsole());
var responder = new AuthorizationResponder(options.Name);
await using var server = new IsoServer(options, responder, loggers.CreateLogger<IsoServer>());
server.Start();
Console.WriteLine($"scheme server {options.Name} listening on {server.Endpoint}");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
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
