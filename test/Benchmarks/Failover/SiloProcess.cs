using System.Diagnostics;

namespace OrleansControl.Benchmarks.Failover;

/// <summary>
/// One Silo process (silo + gateway) on Redis clustering and storage, with the shipped membership settings unless
/// <c>settings</c> overrides them (configuration keys with <c>__</c>, e.g. <c>Controller__Membership__ProbeTimeout</c>).
/// </summary>
internal sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    private SiloProcess(string name, Process process, int grpc, int rest, int siloPort)
    {
        (Name, _process, SiloPort) = (name, process, siloPort);
        Grpc = $"http://127.0.0.1:{grpc}";
        Rest = $"http://127.0.0.1:{rest}";
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) _lines.Enqueue(line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) _lines.Enqueue(line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public string Grpc { get; }

    public string Rest { get; }

    public int SiloPort { get; }

    public static SiloProcess Start(string name, string redis, string clusterId, IReadOnlyDictionary<string, string>? settings = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "OrleansControl.Silo.dll");
        var (grpc, rest, silo, gateway) = (BenchPorts.FreePort(), BenchPorts.FreePort(), BenchPorts.FreePort(), BenchPorts.FreePort());
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(dll);
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["Controller__Clustering"] = "redis",
            ["Controller__Storage"] = "redis",
            ["Controller__Redis"] = redis,
            ["Controller__ClusterId"] = clusterId,
            ["Controller__ServiceId"] = clusterId,
            ["Controller__AdvertisedAddress"] = "127.0.0.1",
            ["Controller__SiloPort"] = silo.ToString(),
            ["Controller__GatewayPort"] = gateway.ToString(),
            ["Controller__Health__HeartbeatInterval"] = "00:00:01",
            ["Controller__Health__MoveDeadline"] = "00:00:02",
            ["Gateway__GrpcPort"] = grpc.ToString(),
            ["Gateway__RestPort"] = rest.ToString(),
            ["Gateway__HeartbeatInterval"] = "00:00:01",
        }.Concat(settings ?? new Dictionary<string, string>()))
            info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{name} did not start");
        return new SiloProcess(name, process, grpc, rest, silo);
    }

    public IEnumerable<string> Lines => _lines;

    public bool Exited => _process.HasExited;

    public bool Wrote(string text) => _lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    public async Task ReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"{Name} exited: {string.Join(Environment.NewLine, _lines.TakeLast(20))}");
            try
            {
                if ((await http.GetAsync($"{Rest}/readyz")).IsSuccessStatusCode)
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{Name} not ready in 60 s");
    }

    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(); // SIGKILL
    }

    public void Dispose()
    {
        Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
    }
}
