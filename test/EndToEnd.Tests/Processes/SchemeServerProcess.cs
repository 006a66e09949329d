namespace OrleansControl.EndToEnd.Tests.Processes;

/// <summary>A scheme-side ISO 8583 server (<c>Sidecar/Samples/SchemeServer</c>) that approves 0200s, answering with
/// its server id in field 44, as its own process on a loopback port.</summary>
internal sealed class SchemeServerProcess : IDisposable
{
    private readonly ChildProcess _process;

    private SchemeServerProcess(string serverId, string zone, int port, ChildProcess process)
    {
        ServerId = serverId;
        Zone = zone;
        Port = port;
        _process = process;
    }

    public string ServerId { get; }

    public string Zone { get; }

    public int Port { get; }

    /// <summary>host:port, as the pool names it and the sidecar is told.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>When it was killed; null while it runs.</summary>
    public DateTimeOffset? KilledAt { get; private set; }

    /// <param name="controllerGrpc">When given, the server is its own server-side sidecar: it reports its sessions there
    /// every 500 ms (and at once when one opens or closes).</param>
    public static async Task<SchemeServerProcess> StartAsync(string serverId, string zone, string? controllerGrpc = null, string pool = Deployment.Pool)
    {
        var port = LoopbackPorts.Next();
        string[] args = controllerGrpc is null
            ? ["--Listen", $"127.0.0.1:{port}", "--ServerId", serverId]
            : ["--Listen", $"127.0.0.1:{port}", "--ServerId", serverId, "--Controller", controllerGrpc, "--ServerPool", pool, "--ReportInterval", "00:00:00.500"];
        var process = ChildProcess.Start(serverId, BuildOutput.SchemeServer, args);
        var server = new SchemeServerProcess(serverId, zone, port, process);
        try
        {
            await Eventually.Until(() => Task.FromResult(process.Wrote("listening on") || process.HasExited), started => started,
                $"scheme server {serverId} to listen", TimeSpan.FromSeconds(30), () => process.Tail());
            Assert.False(process.HasExited, $"scheme server {serverId} exited on start{Environment.NewLine}{process.Tail()}");
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>kill -9.</summary>
    public void Kill()
    {
        KilledAt ??= DateTimeOffset.UtcNow;
        _process.Kill();
    }

    public string Tail(int lines = 20) => _process.Tail(lines);

    public void Dispose() => _process.Dispose();
}
