using OrleansControl.Demo.Network;

namespace OrleansControl.Demo.Processes;

/// <summary>
/// A scheme-side ISO 8583 server (<c>Sidecar/Samples/SchemeServer</c>) that approves 0200s, answering with its server id
/// in field 44: its own process, on loopback, or in its own network namespace when the demo may create one (then it can
/// be black-holed). <see cref="RestartAsync"/> starts it again on the same address, as a supervisor would.
/// </summary>
internal sealed class SchemeServerProcess : IDisposable
{
    private readonly NetworkNamespace? _namespace;
    private ChildProcess _process;
    private int _starts = 1;

    private SchemeServerProcess(string serverId, string zone, string host, int port, NetworkNamespace? ns, ChildProcess process)
    {
        ServerId = serverId;
        Zone = zone;
        Host = host;
        Port = port;
        _namespace = ns;
        _process = process;
    }

    public string ServerId { get; }

    public string Zone { get; }

    public string Host { get; }

    public int Port { get; }

    /// <summary>host:port, as the pool names it and the sidecar is told.</summary>
    public string Address => $"{Host}:{Port}";

    public NetworkNamespace? Namespace => _namespace;

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public static async Task<SchemeServerProcess> StartAsync(string serverId, string zone, bool ownNamespace, CancellationToken ct)
    {
        var ns = ownNamespace ? NetworkNamespace.Create(serverId[^1..]) : null;
        var port = LoopbackPorts.Next();
        var host = ns?.InnerAddress ?? "127.0.0.1";
        var server = new SchemeServerProcess(serverId, zone, host, port, ns, Launch(serverId, host, port, ns, 1));
        try
        {
            await server.UntilListening(ct);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>kill -9.</summary>
    public void Kill() => _process.Kill();

    public async Task RestartAsync(CancellationToken ct)
    {
        _process.Dispose();
        _starts++;
        _process = Launch(ServerId, Host, Port, _namespace, _starts);
        await UntilListening(ct);
    }

    public void Pause() => _process.Pause();

    public void Resume() => _process.Resume();

    public string Tail(int lines = 20) => _process.Tail(lines);

    public void Dispose()
    {
        _process.Dispose();
        _namespace?.Dispose();
    }

    private static ChildProcess Launch(string serverId, string host, int port, NetworkNamespace? ns, int start) =>
        ChildProcess.Start(start == 1 ? serverId : $"{serverId}#{start}", BuildOutput.SchemeServer,
            ["--Listen", $"{(ns is null ? host : "0.0.0.0")}:{port}", "--ServerId", serverId], networkNamespace: ns?.Name);

    private Task UntilListening(CancellationToken ct)
    {
        var process = _process;
        return Wait.Until(() => Task.FromResult(process.HasExited
                ? throw new DemoException($"scheme server {ServerId} exited on start{Environment.NewLine}{process.Tail()}")
                : process.Wrote("listening on")),
            $"scheme server {ServerId} to listen on {Address}", TimeSpan.FromSeconds(30), () => process.Tail(), ct);
    }
}
