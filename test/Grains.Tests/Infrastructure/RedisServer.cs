using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OrleansControl.Grains.Tests.Infrastructure;

/// <summary>
/// A real redis-server child process on a free loopback port with its own temp --dir and the append-only file on,
/// so it can be restarted on the same data (or, <c>persistent: false</c>, without it: a restart comes back empty).
/// Binary: $ORLEANSCONTROL_REDIS_SERVER, else redis-server on PATH. Also compiled into the gateway's and end-to-end tests.
/// With <see cref="RedisServerTls"/> it listens on TLS alone (<c>--port 0 --tls-port</c>), requires a client
/// certificate from the CA and a password.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly RedisServerTls? _tls;
    private readonly bool _persistent;
    private Process? _process;

    private RedisServer(int port, string dir, RedisServerTls? tls = null, bool persistent = true)
    {
        Port = port;
        Dir = dir;
        _tls = tls;
        _persistent = persistent;
    }

    public int Port { get; }

    public string Dir { get; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectRetry=5";

    public static string ServerBinary =>
        Environment.GetEnvironmentVariable("ORLEANSCONTROL_REDIS_SERVER") is { Length: > 0 } path ? path : "redis-server";

    /// <summary>redis-cli next to the server binary, else on PATH.</summary>
    public static string CliBinary
    {
        get
        {
            var dir = Path.GetDirectoryName(ServerBinary);
            var sibling = string.IsNullOrEmpty(dir) ? null : Path.Combine(dir, "redis-cli");
            return sibling is not null && File.Exists(sibling) ? sibling : "redis-cli";
        }
    }

    public static async Task<RedisServer> StartAsync(RedisServerTls? tls = null, bool persistent = true)
    {
        var dir = Directory.CreateTempSubdirectory("oc-redis-").FullName;
        var server = new RedisServer(FreePort(), dir, tls, persistent);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>kill -9: no shutdown, no final flush (the append-only file keeps what was fsynced).</summary>
    public async Task KillAsync()
    {
        if (_process is null)
            return;
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port and --dir (after <see cref="KillAsync"/> or <see cref="StopAsync"/>).</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    /// <summary>What a Redis without persistence does on a restart: every key is gone. SHUTDOWN NOSAVE, files removed, started.</summary>
    public async Task RestartEmptyAsync()
    {
        await StopAsync(save: false);
        foreach (var entry in new DirectoryInfo(Dir).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo d) d.Delete(recursive: true);
            else entry.Delete();
        }
        await StartProcessAsync();
    }

    /// <summary>SHUTDOWN (flushes the AOF), then start again on the same port and --dir.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartProcessAsync();
    }

    public async Task StopAsync(bool save = true)
    {
        if (_process is null || _process.HasExited)
            return;
        try
        {
            if (_tls is null)
                await SendAsync(save ? "SHUTDOWN" : "SHUTDOWN NOSAVE");
            else
                await CliAsync(save ? "SHUTDOWN" : "SHUTDOWN NOSAVE");
        }
        catch (IOException) { } // the server closes the socket as it exits
        catch (SocketException) { }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Runs redis-cli against this server and returns its stdout.</summary>
    public async Task<string> CliAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(CliBinary) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-p");
        psi.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var a in _tls?.CliArguments ?? []) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var cli = Process.Start(psi)!;
        var output = await cli.StandardOutput.ReadToEndAsync();
        await cli.WaitForExitAsync();
        return output;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }

    private async Task StartProcessAsync()
    {
        var psi = new ProcessStartInfo(ServerBinary) { RedirectStandardOutput = true, RedirectStandardError = true };
        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var listen = _tls is null ? ["--port", port] : new[] { "--port", "0", "--tls-port", port }.Concat(_tls.ServerArguments);
        foreach (var a in new[] { "--bind", "127.0.0.1" }.Concat(listen).Concat(["--dir", Dir, "--appendonly", _persistent ? "yes" : "no", "--appendfsync", "always", "--save", "", "--daemonize", "no"]))
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {ServerBinary}");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                if (_tls is not null ? (await CliAsync("PING")).StartsWith("PONG", StringComparison.Ordinal)
                    : (await SendAsync("PING")).StartsWith("+PONG", StringComparison.Ordinal))
                    return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline) { }
            catch (IOException) when (DateTime.UtcNow < deadline) { }
            if (_process.HasExited)
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("redis-server did not answer PING within 10 s");
            await Task.Delay(50);
        }
    }

    private async Task<string> SendAsync(string command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
        var buffer = new byte[256];
        var n = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>PEM files for a TLS-only redis-server: its certificate and key, the CA of client certificates, and a password.</summary>
public sealed record RedisServerTls(string CertificatePath, string KeyPath, string CaPath, string Password, string ClientCertificatePath, string ClientKeyPath)
{
    public IEnumerable<string> ServerArguments =>
        ["--tls-cert-file", CertificatePath, "--tls-key-file", KeyPath, "--tls-ca-cert-file", CaPath, "--tls-auth-clients", "yes", "--requirepass", Password];

    public IEnumerable<string> CliArguments =>
        ["--tls", "--cacert", CaPath, "--cert", ClientCertificatePath, "--key", ClientKeyPath, "-a", Password, "--no-auth-warning"];
}
