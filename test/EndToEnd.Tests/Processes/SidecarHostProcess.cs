using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansControl.EndToEnd.Tests.Processes;

/// <summary>A command the agent carried out, from GET /control/status.</summary>
internal sealed record SidecarCommandRecord(string CommandId, string Kind, bool Success, string Detail);

/// <summary>What GET /control/status says of the agent and its link.</summary>
internal sealed record SidecarStatus(bool ControllerAttached, string? OutboxIncarnation, string LinkState, int? LinkPort,
    IReadOnlyList<SidecarCommandRecord> RecentCommands, string? Controller = null, IReadOnlyList<string>? LearnedGateways = null,
    bool Standby = false)
{
    public bool SignedOn => LinkState is "SignedOn" or "Degraded";

    /// <summary>The server the link is signed on at, by port (the status names the resolved endpoint, e.g. [::ffff:127.0.0.1]:port).</summary>
    public bool IsSignedOnAt(SchemeServerProcess server) => SignedOn && LinkPort == server.Port;

    public override string ToString() =>
        $"{(Standby ? "standby, " : "")}link {LinkState} port {LinkPort?.ToString() ?? "-"}, attached {ControllerAttached}, outbox {OutboxIncarnation ?? "-"}, commands [{string.Join("; ", RecentCommands.Select(c => $"{c.CommandId} {c.Kind} {c.Success}: {c.Detail}"))}]";
}

/// <summary>
/// The sidecar container (<c>Sidecar/Host</c>) as its own process: the managed ISO link, its agent attached to the
/// controller, the relay port the bank's application sends its 0200s to, and the localhost control endpoint.
/// </summary>
internal sealed class SidecarHostProcess : IDisposable
{
    private readonly ChildProcess _process;
    private readonly HttpClient _control;
    private string? _journalDirectory;

    private SidecarHostProcess(ChildProcess process, int controlPort, int relayPort, string connectionId)
    {
        _process = process;
        _control = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{controlPort}"), Timeout = TimeSpan.FromSeconds(15) };
        RelayPort = relayPort;
        ConnectionId = connectionId;
    }

    /// <summary>Where the bank's application connects (ISO 8583, binary2 framing).</summary>
    public int RelayPort { get; }

    /// <summary>The connection it registers: {SidecarId}.{ClientId}.</summary>
    public string ConnectionId { get; }

    /// <param name="connectionId">The connection it carries (default {SidecarId}.{ClientId}); a standby names the primary's.</param>
    /// <param name="standby">Registers as a standby client (DR) of <paramref name="connectionId"/>: no link until activated.</param>
    public static async Task<SidecarHostProcess> StartAsync(string controllerGrpc, string sidecarId, string clientId, string pool, string preferredServer,
        string? connectionId = null, bool standby = false, TimeSpan? heartbeatInterval = null)
    {
        var controlPort = LoopbackPorts.Next();
        var relayPort = LoopbackPorts.Next();
        // Each process its own reversal journal: one sidecar per journal (the host turns reversals on; the file is locked).
        var journalDirectory = Path.Combine(Path.GetTempPath(), $"oc-e2e-{sidecarId}-{Guid.NewGuid():N}");
        var settings = new Dictionary<string, string>
        {
            ["Sidecar:Link:Reversals:JournalPath"] = Path.Combine(journalDirectory, "link.reversals"),
            ["Sidecar:Control:Url"] = $"http://127.0.0.1:{controlPort}",
            ["Sidecar:Relay:Enabled"] = "true",
            ["Sidecar:Relay:Listen"] = $"127.0.0.1:{relayPort}",
            ["Sidecar:Agent:Controller"] = controllerGrpc,
            ["Sidecar:Agent:SidecarId"] = sidecarId,
            ["Sidecar:Agent:ClientId"] = clientId,
            ["Sidecar:Agent:ServerPool"] = pool,
            ["Sidecar:Agent:PreferredServer"] = preferredServer,
            ["Sidecar:Agent:HeartbeatInterval"] = (heartbeatInterval ?? TimeSpan.FromSeconds(1)).ToString(),
            ["Sidecar:Agent:RetryInitialDelay"] = "00:00:00.100",
            ["Sidecar:Agent:RetryMaxDelay"] = "00:00:00.500",
            ["Sidecar:Link:EchoInterval"] = "00:00:01",
            ["Sidecar:Link:EchoTimeout"] = "00:00:00.500",
            ["Sidecar:Link:ConnectTimeout"] = "00:00:01",
            ["Sidecar:Link:SignOnTimeout"] = "00:00:01",
            ["Sidecar:Link:RequestTimeout"] = "00:00:02",
            ["Sidecar:Link:DrainTimeout"] = "00:00:01",
            ["Sidecar:Link:ReconnectInitialDelay"] = "00:00:00.050",
            ["Sidecar:Link:ReconnectMaxDelay"] = "00:00:00.500",
        };
        if (connectionId is not null)
        {
            settings["Sidecar:Agent:ConnectionId"] = connectionId;
        }

        if (standby)
        {
            settings["Sidecar:Agent:Standby"] = "true";
        }

        var process = ChildProcess.Start(sidecarId, BuildOutput.SidecarHost, settings.SelectMany(s => new[] { $"--{s.Key}", s.Value }));
        var sidecar = new SidecarHostProcess(process, controlPort, relayPort, connectionId ?? $"{sidecarId}.{clientId}") { _journalDirectory = journalDirectory };
        try
        {
            await Eventually.Until(async () => !process.HasExited && await sidecar.StatusAsync() is not null, up => up || process.HasExited,
                $"sidecar {sidecarId}'s control endpoint", TimeSpan.FromSeconds(30), () => process.Tail(), TimeSpan.FromMilliseconds(100));
            Assert.False(process.HasExited, $"sidecar {sidecarId} exited on start{Environment.NewLine}{process.Tail()}");
            return sidecar;
        }
        catch
        {
            sidecar.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A sidecar in server mode beside <paramref name="server"/>: no client link, no relay; it declares the server to the
    /// controller on every attach.
    /// </summary>
    public static async Task<SidecarHostProcess> StartForServerAsync(string controllerGrpc, string sidecarId, string pool, SchemeServerProcess server)
    {
        var controlPort = LoopbackPorts.Next();
        var settings = new Dictionary<string, string>
        {
            ["Sidecar:Control:Url"] = $"http://127.0.0.1:{controlPort}",
            ["Sidecar:Relay:Enabled"] = "false",
            ["Sidecar:Link:Reversals:Enabled"] = "false",
            ["Sidecar:Agent:Controller"] = controllerGrpc,
            ["Sidecar:Agent:SidecarId"] = sidecarId,
            ["Sidecar:Agent:ServerPool"] = pool,
            ["Sidecar:Agent:Server:ServerId"] = server.ServerId,
            ["Sidecar:Agent:Server:Address"] = server.Address,
            ["Sidecar:Agent:Server:Zone"] = server.Zone,
            ["Sidecar:Agent:Server:Capacity"] = "10",
            ["Sidecar:Agent:RetryInitialDelay"] = "00:00:00.100",
            ["Sidecar:Agent:RetryMaxDelay"] = "00:00:05",
            ["Sidecar:Agent:RetryMaxDelayWhileLinked"] = "00:00:00.500",
        };
        var process = ChildProcess.Start(sidecarId, BuildOutput.SidecarHost, settings.SelectMany(s => new[] { $"--{s.Key}", s.Value }));
        var sidecar = new SidecarHostProcess(process, controlPort, 0, "");
        try
        {
            await Eventually.Until(async () => !process.HasExited && await sidecar.StatusAsync() is not null, up => up || process.HasExited,
                $"sidecar {sidecarId}'s control endpoint", TimeSpan.FromSeconds(30), () => process.Tail(), TimeSpan.FromMilliseconds(100));
            Assert.False(process.HasExited, $"sidecar {sidecarId} exited on start{Environment.NewLine}{process.Tail()}");
            return sidecar;
        }
        catch
        {
            sidecar.Dispose();
            throw;
        }
    }

    public async Task<SidecarStatus> StatusAsync()
    {
        var s = await _control.GetFromJsonAsync<JsonElement>("/control/status");
        var link = s.GetProperty("link");
        return new SidecarStatus(
            s.GetProperty("controllerAttached").GetBoolean(),
            s.TryGetProperty("outboxIncarnation", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null,
            link.GetProperty("state").GetString() ?? "",
            link.TryGetProperty("endpoint", out var e) && e.ValueKind == JsonValueKind.String ? PortOf(e.GetString()!) : null,
            [.. s.GetProperty("recentCommands").EnumerateArray().Select(c => new SidecarCommandRecord(
                c.GetProperty("commandId").GetString()!, c.GetProperty("kind").GetString()!,
                c.GetProperty("success").GetBoolean(), c.GetProperty("detail").GetString() ?? ""))],
            s.TryGetProperty("controller", out var controller) && controller.ValueKind == JsonValueKind.String ? controller.GetString() : null,
            s.TryGetProperty("learnedGateways", out var learned) && learned.ValueKind == JsonValueKind.Array
                ? [.. learned.EnumerateArray().Select(g => g.GetString()!)] : [],
            s.TryGetProperty("standby", out var standby) && standby.ValueKind == JsonValueKind.True);
    }

    /// <summary>kill -9 of the sidecar (its link, relay and agent with it): the kernel closes its sockets.</summary>
    public void Kill() => _process.Kill();

    /// <summary>POST /control/failover without a server: the application asks the controller to move its link.</summary>
    public async Task<(int Status, string Body)> RequestFailoverAsync(string reason)
    {
        using var response = await _control.PostAsJsonAsync("/control/failover", new { reason });
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public string Tail(int lines = 60) => _process.Tail(lines);

    public void Dispose()
    {
        _process.Dispose();
        _control.Dispose();
        if (_journalDirectory is not null && Directory.Exists(_journalDirectory))
        {
            Directory.Delete(_journalDirectory, recursive: true);
        }
    }

    private static int? PortOf(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(endpoint.AsSpan(colon + 1), out var port) ? port : null;
    }
}
