using System.Diagnostics;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>
/// The scheme server sample (<c>Sidecar/Samples/SchemeServer</c>) as a child process on a fixed port, so a trial can
/// <c>kill -9</c> it (<see cref="Process.Kill()"/> sends SIGKILL on Linux) and start it again on the same port. On
/// loopback, or inside a <see cref="NetworkNamespace"/> (started with <c>ip netns exec</c>, which execs the server,
/// so the process is the server's) where a trial can black-hole it instead.
/// </summary>
internal sealed class SchemeServerProcess(string serverId, int port, NetworkNamespace? netns = null) : IAsyncDisposable
{
    private const string Assembly = "OrleansControl.Samples.SchemeServer.dll";
    private Process? _process;
    private bool _alive;

    public string ServerId { get; } = serverId;

    public string Address { get; } = $"{netns?.InnerAddress ?? "127.0.0.1"}:{port}";

    /// <summary>False from just before the kill signal (or the black hole) until the restarted process listens again.</summary>
    public bool Alive => Volatile.Read(ref _alive);

    public async Task StartAsync(CancellationToken ct)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, Assembly);
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{Assembly} is not beside the benchmarks (build test/Benchmarks)", dll);

        // The port was just freed by a killed process; binding it again can fail for a moment, so retry.
        for (var attempt = 1; ; attempt++)
        {
            var started = TryStart(dll);
            var listening = await started.Listening.WaitAsync(TimeSpan.FromSeconds(20), ct);
            if (listening)
            {
                _process = started.Process;
                Volatile.Write(ref _alive, true);
                return;
            }
            started.Process.Dispose();
            if (attempt == 20)
                throw new InvalidOperationException($"scheme server {ServerId} did not start listening on {Address}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>SIGKILL, no goodbye. Returns the Stopwatch timestamp taken just before the signal.</summary>
    public long Kill()
    {
        var process = _process ?? throw new InvalidOperationException($"{ServerId} is not running");
        Volatile.Write(ref _alive, false);
        var at = Stopwatch.GetTimestamp();
        process.Kill();
        return at;
    }

    /// <summary>
    /// Every packet to and from the server vanishes; the process runs on. Returns the Stopwatch timestamp taken just
    /// before the first command (its start-up, a few ms, counts against the recovery measured from it).
    /// </summary>
    public long BlackHole()
    {
        var ns = netns ?? throw new InvalidOperationException($"{ServerId} does not run in a network namespace");
        Volatile.Write(ref _alive, false);
        var at = Stopwatch.GetTimestamp();
        ns.BlackHole();
        return at;
    }

    /// <summary>After a black hole: the process killed, the network back, a fresh process listening on the same address.</summary>
    public async Task RestoreAsync(CancellationToken ct)
    {
        if (_process is { HasExited: false } process)
            process.Kill();
        await WaitForExitAsync();
        netns?.Restore();
        await StartAsync(ct);
    }

    public async Task WaitForExitAsync()
    {
        if (_process is { } process)
        {
            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
        }
    }

    private (Process Process, Task<bool> Listening) TryStart(string dll)
    {
        var info = new ProcessStartInfo(netns is null ? DotnetHost() : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (netns is not null)
            foreach (var arg in new[] { "netns", "exec", netns.Name, DotnetHost() })
                info.ArgumentList.Add(arg);
        foreach (var arg in new[] { "exec", dll, "--Listen", Address, "--ServerId", ServerId })
            info.ArgumentList.Add(arg);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var listening = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Drained whatever it says (a full pipe would block the server); the first line tells when it listens.
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) listening.TrySetResult(false);
            else if (e.Data.Contains("listening on", StringComparison.Ordinal)) listening.TrySetResult(true);
        };
        process.ErrorDataReceived += (_, _) => { };
        process.Exited += (_, _) => listening.TrySetResult(false);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, listening.Task);
    }

    /// <summary>The muxer that runs this process (dotnet run) or the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            Volatile.Write(ref _alive, false);
            process.Kill();
        }
        await WaitForExitAsync();
    }
}
