namespace OrleansControl.Demo.Processes;

/// <summary>
/// A region's controller (silo + co-hosted gateway, <c>Silo/</c>) as its own process on in-memory storage and
/// localhost clustering (no Redis, no Kafka), on fixed loopback ports so a restart comes back where the sidecars look
/// for it. 1 s heartbeats and a short move deadline keep the demo's failovers quick. Same design as
/// test/EndToEnd.Tests/Processes/ControllerProcess.cs (a copy).
/// </summary>
internal sealed class ControllerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Dictionary<string, string> _settings;
    private ChildProcess? _process;
    private int _starts;

    public ControllerProcess(string region, string role, IReadOnlyDictionary<string, string>? extraSettings = null,
        Func<HttpMessageHandler>? restHandler = null, string scheme = "http")
    {
        Region = region;
        GrpcPort = LoopbackPorts.Next();
        RestPort = LoopbackPorts.Next();
        var settings = new Dictionary<string, string>
        {
            ["Controller__Region"] = region,
            ["Controller__Role"] = role,
            ["Controller__SiloPort"] = LoopbackPorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Controller__GatewayPort"] = LoopbackPorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Controller__ClusterId"] = $"demo-{region}",
            ["Controller__ServiceId"] = $"demo-{region}",
            ["Controller__Health__HeartbeatInterval"] = "00:00:01",
            ["Controller__Health__MoveDeadline"] = "00:00:02",
            ["Controller__Health__NoTargetRetryMax"] = "00:00:04",
            ["Gateway__Region"] = region,
            ["Gateway__GrpcPort"] = GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway__RestPort"] = RestPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway__HeartbeatInterval"] = "00:00:01",
            // The web view's sign-in (a token made for this run; the gateway keeps only its SHA-256).
            ["Gateway__Auth__Tokens__0__Subject"] = "demo-operator",
            ["Gateway__Auth__Tokens__0__Role"] = "operator",
            ["Gateway__Auth__Tokens__0__Sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(WebViewToken))),
        };
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        _settings = settings;
        GrpcAddress = $"{scheme}://{(scheme == "https" ? "localhost" : "127.0.0.1")}:{GrpcPort}";
        Rest = new ControllerRest(new Uri($"{scheme}://{(scheme == "https" ? "localhost" : "127.0.0.1")}:{RestPort}"), restHandler?.Invoke());
        WebView = new Uri($"{scheme}://{(scheme == "https" ? "localhost" : "127.0.0.1")}:{RestPort}/ui/");
    }

    /// <summary>The live web view (docs/ui.md) this controller's gateway serves.</summary>
    public Uri WebView { get; }

    /// <summary>An operator bearer token for the web view, made for this run.</summary>
    public string WebViewToken { get; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public string Region { get; }

    /// <summary>A setting (environment variable form, e.g. Gateway__Peer__Address) for the next start.</summary>
    public void Set(string key, string value) => _settings[key] = value;

    public int GrpcPort { get; }

    public int RestPort { get; }

    /// <summary>What sidecars are configured with.</summary>
    public string GrpcAddress { get; }

    public ControllerRest Rest { get; }

    public int? Pid => _process?.Pid;

    public bool Running => _process is { HasExited: false };

    /// <summary>kill -9: in-memory registry, pools and outboxes are gone with it.</summary>
    public void Kill() => _process?.Kill();

    /// <summary>A new process on the same ports (what a supervisor does after a crash).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        _process?.Dispose();
        _starts++;
        _process = ChildProcess.Start($"controller-{Region}#{_starts}", BuildOutput.Silo, [], _settings);
        var process = _process;
        await Wait.Until(async () => process.HasExited
                ? throw new DemoException($"the {Region} controller exited on start{Environment.NewLine}{process.Tail()}")
                : await Rest.IsReadyAsync(ct),
            $"the {Region} controller to be ready (/readyz on :{RestPort})", StartTimeout, () => process.Tail(), ct);
    }

    public string Tail(int lines = 60) => _process?.Tail(lines) ?? $"--- controller {Region}: not started ---";

    public void Dispose()
    {
        _process?.Dispose();
        Rest.Dispose();
    }
}
