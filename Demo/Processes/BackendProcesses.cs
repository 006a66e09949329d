using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace OrleansControl.Demo.Processes;

/// <summary>
/// <c>--backend real</c>: one redis-server per region (append-only file, fsync every second, as deploy/ ships it) and one
/// Kafka-protocol broker that both regions share (librdkafka's mock cluster, 3 brokers, the four topics), as the seed's
/// cross-region bus presents itself. Each is a process of the demo's, stopped with it.
/// </summary>
internal sealed class RedisProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private readonly ChildProcess _process;

    private RedisProcess(ChildProcess process, int port, string folder)
    {
        _process = process;
        Port = port;
        Folder = folder;
    }

    public int Port { get; }

    /// <summary>Its data folder (appendonly files).</summary>
    public string Folder { get; }

    public int Pid => _process.Pid;

    /// <summary>What the controller's <c>Controller:Redis</c> gets.</summary>
    public string Configuration => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static async Task<RedisProcess> StartAsync(string region, CancellationToken ct)
    {
        var server = Locate();
        var port = LoopbackPorts.Next();
        var folder = RunRecord.PrivateFolder($"redis-{region}");
        Directory.CreateDirectory(folder);
        var process = ChildProcess.StartProgram($"redis-{region}", server,
            ["--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--dir", folder, "--save", "",
             "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no", "--protected-mode", "yes"], folder);
        var redis = new RedisProcess(process, port, folder);
        try
        {
            await Wait.Until(async () => process.HasExited
                    ? throw new DemoException($"redis-server for {region} exited on start{Environment.NewLine}{process.Tail()}")
                    : await PingAsync(port, ct),
                $"redis-server for {region} on :{port}", StartTimeout, () => process.Tail(), ct);
            return redis;
        }
        catch
        {
            redis.Dispose();
            throw;
        }
    }

    private static string Locate()
    {
        var configured = Environment.GetEnvironmentVariable("ORLEANSCONTROL_REDIS_SERVER");
        if (!string.IsNullOrEmpty(configured) && File.Exists(configured)) return configured;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate)) return candidate;
        }

        throw new DemoException("--backend real needs redis-server (Debian: apt-get install redis-server), or ORLEANSCONTROL_REDIS_SERVER naming it");
    }

    private static async Task<bool> PingAsync(int port, CancellationToken ct)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, ct);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), ct);
            var buffer = new byte[16];
            var n = await stream.ReadAsync(buffer, ct);
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _process.Dispose();
}

/// <summary>The test Kafka broker (test/KafkaBroker): three mock brokers with the four topics, on loopback.</summary>
internal sealed class KafkaBrokerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly ChildProcess _process;
    private readonly TaskCompletionSource<string> _bootstrap;

    private KafkaBrokerProcess(ChildProcess process, TaskCompletionSource<string> bootstrap)
    {
        _process = process;
        _bootstrap = bootstrap;
    }

    public int Pid => _process.Pid;

    /// <summary>What the controllers' <c>Controller:Kafka:BootstrapServers</c> get.</summary>
    public string BootstrapServers => _bootstrap.Task.Result;

    /// <summary>The brokers' ports, for the check that none is left listening.</summary>
    public IEnumerable<int> Ports => BootstrapServers.Split(',').Select(a => int.Parse(a[(a.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));

    public static async Task<KafkaBrokerProcess> StartAsync(CancellationToken ct)
    {
        var bootstrap = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = ChildProcess.Start("kafka-broker", BuildOutput.KafkaBroker, ["--brokers", "3"], onLine: line =>
        {
            if (line.StartsWith("bootstrap.servers=", StringComparison.Ordinal)) bootstrap.TrySetResult(line["bootstrap.servers=".Length..].Trim());
        });
        var broker = new KafkaBrokerProcess(process, bootstrap);
        try
        {
            await Wait.Until(() => process.HasExited
                    ? throw new DemoException($"the Kafka broker exited on start{Environment.NewLine}{process.Tail()}")
                    : Task.FromResult(bootstrap.Task.IsCompleted),
                "the Kafka broker to print its bootstrap servers", StartTimeout, () => process.Tail(), ct);
            return broker;
        }
        catch
        {
            broker.Dispose();
            throw;
        }
    }

    public void Dispose() => _process.Dispose();
}
