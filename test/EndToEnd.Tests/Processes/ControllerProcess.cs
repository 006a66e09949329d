namespace OrleansControl.EndToEnd.Tests.Processes;

/// <summary>
/// The controller (silo + gateway, <c>Silo/</c>) as its own process on in-memory storage, on fixed loopback ports so a
/// restart comes back where the sidecar looks for it. 1 s heartbeats and a short move deadline keep the tests quick.
/// </summary>
internal sealed class ControllerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(40);
    private readonly int _siloPort = LoopbackPorts.Next();
    private readonly int _orleansGatewayPort = LoopbackPorts.Next();
    private readonly int _grpcPort = LoopbackPorts.Next();
    private readonly int _restPort = LoopbackPorts.Next();
    private readonly TimeSpan _moveDeadline;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly string _name;
    private ChildProcess? _process;
    private int _starts;

    private ControllerProcess(TimeSpan moveDeadline, IReadOnlyDictionary<string, string>? settings, string name)
    {
        _moveDeadline = moveDeadline;
        _settings = settings ?? new Dictionary<string, string>();
        _name = name;
        Rest = new ControllerRest(new Uri($"http://127.0.0.1:{_restPort}"));
    }

    /// <summary>What sidecars are configured with.</summary>
    public string GrpcAddress => $"http://127.0.0.1:{_grpcPort}";

    public ControllerRest Rest { get; }

    /// <summary>The running process's id.</summary>
    public int Pid => _process?.Pid ?? throw new InvalidOperationException("the controller is not started");

    /// <summary>The ports it was given (silo, Orleans gateway, gRPC, REST).</summary>
    public IReadOnlyList<int> Ports => [_siloPort, _orleansGatewayPort, _grpcPort, _restPort];

    /// <summary>The running process (or the last one, once it exited).</summary>
    public ChildProcess Process => _process ?? throw new InvalidOperationException("not started");

    /// <param name="settings">Environment added to (or replacing) the defaults, e.g. <c>Controller__Storage=redis</c> or Redis
    /// clustering for a second silo; on every start.</param>
    public static async Task<ControllerProcess> StartAsync(TimeSpan moveDeadline, IReadOnlyDictionary<string, string>? settings = null,
        string name = "controller")
    {
        var controller = new ControllerProcess(moveDeadline, settings, name);
        try
        {
            await controller.StartProcessAsync();
            return controller;
        }
        catch
        {
            controller.Dispose();
            throw;
        }
    }

    /// <summary>kill -9: in-memory registry, pools and outboxes are gone with it.</summary>
    public void Kill() => _process?.Kill();

    /// <summary>A new process on the same ports (what a supervisor does after a crash).</summary>
    public Task RestartAsync()
    {
        Kill();
        return StartProcessAsync();
    }

    /// <summary>A new process on the same ports after this one exited by itself (what Kubernetes does on an exit).</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    public string Tail(int lines = 60) => _process?.Tail(lines) ?? "--- controller: not started ---";

    public void Dispose()
    {
        _process?.Dispose();
        Rest.Dispose();
    }

    private async Task StartProcessAsync()
    {
        _process?.Dispose();
        _starts++;
        var environment = new Dictionary<string, string>
        {
            ["Controller__SiloPort"] = _siloPort.ToString(),
            ["Controller__GatewayPort"] = _orleansGatewayPort.ToString(),
            ["Controller__ClusterId"] = "e2e-faults",
            ["Controller__Health__HeartbeatInterval"] = "00:00:01",
            ["Controller__Health__MoveDeadline"] = _moveDeadline.ToString(),
            ["Controller__Health__NoTargetRetryMax"] = "00:00:04",
            ["Gateway__GrpcPort"] = _grpcPort.ToString(),
            ["Gateway__RestPort"] = _restPort.ToString(),
            ["Gateway__HeartbeatInterval"] = "00:00:01",
        };
        foreach (var (key, value) in _settings) environment[key] = value;
        _process = ChildProcess.Start($"{_name}#{_starts}", BuildOutput.Silo, [], environment);
        var process = _process;
        await Eventually.Until(async () => !process.HasExited && await Rest.IsReadyAsync(), ready => ready || process.HasExited,
            "the controller to be ready (/readyz)", StartTimeout, () => process.Tail(), TimeSpan.FromMilliseconds(100));
        Assert.False(process.HasExited, $"the controller exited on start{Environment.NewLine}{process.Tail()}");
    }
}
