using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;

namespace OrleansControl.Sidecar.Tests.Support;

/// <summary>
/// The sidecar host (<c>Sidecar/Host</c>) as its own process, stand-alone (no controller): the link to a scheme, the
/// relay an application sends to, the control endpoint. <see cref="Kill"/> is kill -9: no shutdown, no flush.
/// </summary>
internal sealed class SidecarProcess : IDisposable
{
    private readonly Process _process;
    private readonly HttpClient _control;
    private readonly ConcurrentQueue<string> _output = new();

    private SidecarProcess(Process process, int controlPort, int relayPort)
    {
        _process = process;
        _control = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{controlPort}"), Timeout = TimeSpan.FromSeconds(5) };
        RelayAddress = $"127.0.0.1:{relayPort}";
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string RelayAddress { get; }

    public string Output => string.Join(Environment.NewLine, _output);

    public static async Task<SidecarProcess> StartAsync(string scheme, IReadOnlyDictionary<string, string> settings)
    {
        var dll = typeof(SidecarProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "OrleansControl.Sidecar.Host").Value!;
        var (controlPort, relayPort) = (SchemeProcess.FreePort(), SchemeProcess.FreePort());
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(dll))!, // its appsettings.json
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var all = new Dictionary<string, string>(settings)
        {
            ["Sidecar:Control:Url"] = $"http://127.0.0.1:{controlPort}",
            ["Sidecar:Relay:Listen"] = $"127.0.0.1:{relayPort}",
            ["Sidecar:Link:Server"] = scheme,
        };
        start.ArgumentList.Add(Path.GetFullPath(dll));
        foreach (var (key, value) in all)
        {
            start.ArgumentList.Add($"--{key}");
            start.ArgumentList.Add(value);
        }

        var sidecar = new SidecarProcess(Process.Start(start)!, controlPort, relayPort);
        try
        {
            await Eventually.TrueAsync(async () => sidecar._process.HasExited || await sidecar.StatusAsync() is not null, TimeSpan.FromSeconds(30), "sidecar control endpoint up");
            Assert.False(sidecar._process.HasExited, $"the sidecar exited on start:{Environment.NewLine}{sidecar.Output}");
            return sidecar;
        }
        catch
        {
            sidecar.Dispose();
            throw;
        }
    }

    /// <summary>The control endpoint's address (http://127.0.0.1:port).</summary>
    public Uri ControlAddress => _control.BaseAddress!;

    /// <summary>GET /control/status, or null while it does not answer.</summary>
    public async Task<JsonElement?> StatusAsync()
    {
        try
        {
            return await _control.GetFromJsonAsync<JsonElement>("/control/status");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        _control.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }
}
