using OrleansControl.Sidecar.Hosting;

// The sidecar container: the managed ISO 8583 link, its controller agent, the optional local relay port,
// the control endpoint on localhost (http://localhost:8081/control by default) and, when Sidecar:Probes:Url is set,
// the kubelet's /healthz and /readyz on a port of their own; Prometheus' /metrics on both.
var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddConsoleLogDefaults();
var control = builder.Configuration["Sidecar:Control:Url"] ?? "http://localhost:8081";
var probes = builder.Configuration["Sidecar:Probes:Url"];
builder.WebHost.UseUrls(probes is { Length: > 0 } ? [control, probes] : [control]);
builder.Services.AddSidecar();
builder.Services.AddSidecarTelemetry(builder.Configuration);

var app = builder.Build();
if (probes is { Length: > 0 })
    app.MapSidecarProbes(new Uri(probes.Replace("0.0.0.0", "localhost", StringComparison.Ordinal)).Port);
app.MapSidecarControl();
app.MapSidecarMetrics();
app.Run();
