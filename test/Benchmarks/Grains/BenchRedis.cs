using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace OrleansControl.Benchmarks.Grains;

/// <summary>A throw-away redis-server for the load tool (or an existing one via --redis), plus INFO commandstats.</summary>
internal sealed class BenchRedis : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly string? _dir;

    private BenchRedis(string connectionString, Process? process, string? dir)
    {
        ConnectionString = connectionString;
        _process = process;
        _dir = dir;
        Multiplexer = ConnectionMultiplexer.Connect(connectionString + ",allowAdmin=true");
    }

    public string ConnectionString { get; }

    public ConnectionMultiplexer Multiplexer { get; }

    public static async Task<BenchRedis> StartAsync(string? existing)
    {
        if (existing is not null)
            return new BenchRedis(existing, null, null);

        var binary = Environment.GetEnvironmentVariable("ORLEANSCONTROL_REDIS_SERVER") is { Length: > 0 } p ? p : "redis-server";
        var dir = Directory.CreateTempSubdirectory("oc-bench-redis-").FullName;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", dir,
                     "--appendonly", "yes", "--appendfsync", "everysec", "--save", "" })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        return new BenchRedis($"127.0.0.1:{port}", process, dir);
    }

    /// <summary>Calls per command from INFO commandstats.</summary>
    public async Task<Dictionary<string, long>> CommandCallsAsync()
    {
        var server = Multiplexer.GetServer(Multiplexer.GetEndPoints()[0]);
        var info = await server.InfoRawAsync("commandstats");
        var calls = new Dictionary<string, long>();
        foreach (var line in (info ?? "").Split('\n'))
        {
            // cmdstat_hset:calls=12,usec=...
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal)) continue;
            var name = line[8..line.IndexOf(':', StringComparison.Ordinal)];
            var callsField = line.Split(',')[0];
            calls[name] = long.Parse(callsField[(callsField.IndexOf('=', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        return calls;
    }

    public async ValueTask DisposeAsync()
    {
        await Multiplexer.DisposeAsync();
        if (_process is not null)
        {
            try { _process.Kill(); await _process.WaitForExitAsync(); } catch (InvalidOperationException) { }
            _process.Dispose();
        }
        if (_dir is not null)
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        }
    }
}
