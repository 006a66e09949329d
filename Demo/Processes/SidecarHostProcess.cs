using System.Globalization;

namespace OrleansControl.Demo.Processes;

/// <summary>
/// A bank sidecar container (<c>Sidecar/Host</c>) as its own process: the managed ISO link, its agent attached to the
/// controller, the relay port the bank's application sends its 0200s to, and the localhost control endpoint.
/// Short echo, sign-on and reconnect timings so failovers show within seconds. Same design as
/// test/EndToEnd.Tests/Processes/SidecarHostProcess.cs (a copy).
/// </summary>
internal sealed class SidecarHostProcess : IDisposable
{
    private readonly ChildProcess _process;
    private readonly HttpClient _control;

    private SidecarHostProcess(string sidecarId, string connectionId, ChildProcess process, int controlPort, int relayPort)
    {
        SidecarId = sidecarId;
        ConnectionId = connectionId;
        _process = process;
        ControlPort = controlPort;
        RelayPort = relayPort;
        _control = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{controlPort}"), Timeout = TimeSpan.FromSeconds(2) };
    }

    public string SidecarId { get; }

    /// <summary>The connection it registers: {SidecarId}.{ClientId}.</summary>
    public string ConnectionId { get; }

    public int ControlPort { get; }

    /// <summary>Where the bank's application connects (ISO 8583, binary2 framing).</summary>
    public int RelayPort { get; }

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public static async Task<SidecarHostProcess> StartAsync(string controllerGrpc, string sidecarId, string clientId, string pool,
        string preferredServer, IReadOnlyDictionary<string, string>? credentials, CancellationToken ct)
    {
        var controlPort = LoopbackPorts.Next();
        var relayPort = LoopbackPorts.Next();
        // Each sidecar its own reversal journal (the host turns reversals on; one sidecar per journal, the file is locked),
        // in this run's folder, removed when the sidecar stops.
        var journal = Path.Combine(Path.GetTempPath(), "orleanscontrol-demo", $"journal-{Environment.ProcessId}-{sidecarId}");
        var settings = new Dictionary<string, string>
        {
            ["Sidecar:Link:Reversals:JournalPath"] = Path.Combine(journal, "link.reversals"),
            ["Sidecar:Control:Url"] = $"http://127.0.0.1:{controlPort}",
            ["Sidecar:Relay:Enabled"] = "true",
            ["Sidecar:Relay:Listen"] = $"127.0.0.1:{relayPort}",
            ["Sidecar:Agent:Controller"] = controllerGrpc,
            ["Sidecar:Agent:SidecarId"] = sidecarId,
            ["Sidecar:Agent:ClientId"] = clientId,
            ["Sidecar:Agent:ServerPool"] = pool,
            ["Sidecar:Agent:PreferredServer"] = preferredServer,
            ["Sidecar:Agent:HeartbeatInterval"] = "00:00:01",
            ["Sidecar:Agent:RetryInitialDelay"] = "00:00:00.100",
            ["Sidecar:Agent:RetryMaxDelay"] = "00:00:00.500",
            ["Sidecar:Link:EchoInterval"] = "00:00:01",
            ["Sidecar:Link:EchoTimeout"] = "00:00:01",
            ["Sidecar:Link:ConnectTimeout"] = "00:00:01",
            ["Sidecar:Link:SignOnTimeout"] = "00:00:01",
            ["Sidecar:Link:RequestTimeout"] = "00:00:02",
            ["Sidecar:Link:DrainTimeout"] = "00:00:01",
            ["Sidecar:Link:ReconnectInitialDelay"] = "00:00:00.050",
            ["Sidecar:Link:ReconnectMaxDelay"] = "00:00:00.500",
        };
        foreach (var (key, value) in credentials ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var process = ChildProcess.Start(sidecarId, BuildOutput.SidecarHost, settings.SelectMany(s => new[] { $"--{s.Key}", s.Value }));
        var sidecar = new SidecarHostProcess(sidecarId, $"{sidecarId}.{clientId}", process, controlPort, relayPort) { _journal = journal };
        try
        {
            await Wait.Until(async () => process.HasExited
                    ? throw new DemoException($"sidecar {sidecarId} exited on start{Environment.NewLine}{process.Tail()}")
                    : await sidecar.StatusAsync(ct) is not null,
                $"sidecar {sidecarId}'s control endpoint on :{controlPort}", TimeSpan.FromSeconds(40), () => process.Tail(), ct);
            return sidecar;
        }
        catch
        {
            sidecar.Dispose();
            throw;
        }
    }

    /// <summary>GET /control/status: whether the agent is attached and where the link is.</summary>
    public async Task<SidecarStatus> StatusAsync(CancellationToken ct)
    {
        using var response = await _control.GetAsync("/control/status", ct);
        response.EnsureSuccessStatusCode();
        return SidecarStatus.Parse(await response.Content.ReadAsStringAsync(ct));
    }

    public string Tail(int lines = 60) => _process.Tail(lines);

    private string? _journal;

    public void Dispose()
    {
        _process.Dispose();
        _control.Dispose();
        try
        {
            if (_journal is not null && Directory.Exists(_journal)) Directory.Delete(_journal, recursive: true);
        }
        catch (IOException)
        {
            // a reversal journal still held: the next run's sweep removes it
        }
    }
}

/// <summary>What GET /control/status says of the agent and its link.</summary>
internal sealed record SidecarStatus(bool ControllerAttached, string? OutboxIncarnation, string LinkState, string? LinkEndpoint,
    SidecarReversals? Reversals = null)
{
    public bool SignedOn => LinkState is "SignedOn" or "Degraded";

    /// <summary>Whether the link is signed on at <paramref name="address"/> (host:port; the status names the resolved
    /// endpoint, e.g. [::ffff:127.0.0.1]:port).</summary>
    public bool IsSignedOnAt(string? address) =>
        SignedOn && address is not null && Normalize(LinkEndpoint) is { } link && link == Normalize(address);

    public static SidecarStatus Parse(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var s = doc.RootElement;
        var link = s.GetProperty("link");
        return new SidecarStatus(
            s.GetProperty("controllerAttached").GetBoolean(),
            s.TryGetProperty("outboxIncarnation", out var i) && i.ValueKind == System.Text.Json.JsonValueKind.String ? i.GetString() : null,
            link.GetProperty("state").GetString() ?? "",
            link.TryGetProperty("endpoint", out var e) && e.ValueKind == System.Text.Json.JsonValueKind.String ? e.GetString() : null,
            s.TryGetProperty("reversals", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.Object
                ? new SidecarReversals(r.GetProperty("pending").GetInt32(), r.GetProperty("queued").GetInt64(), r.GetProperty("acknowledged").GetInt64(),
                    r.GetProperty("givenUp").GetInt64(), r.GetProperty("lateResponses").GetInt64())
                : null);
    }

    private static string? Normalize(string? endpoint)
    {
        if (endpoint is null || !System.Net.IPEndPoint.TryParse(endpoint, out var ep))
        {
            return null;
        }

        var ip = ep.Address.IsIPv4MappedToIPv6 ? ep.Address.MapToIPv4() : ep.Address;
        return $"{ip}:{ep.Port.ToString(CultureInfo.InvariantCulture)}";
    }
}

/// <summary>The sidecar's reversals since it started (its /control/status): timed-out 0200s it reversed.</summary>
internal sealed record SidecarReversals(int Pending, long Queued, long Acknowledged, long GivenUp, long LateResponses);
