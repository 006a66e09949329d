using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OrleansControl.Sidecar.Tests.Support;

/// <summary>The sample SchemeServer as a real process (optionally inside a network namespace), for tests that kill it.</summary>
internal sealed class SchemeProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SchemeProcess(string address, string id, string? netns, IEnumerable<string>? settings)
    {
        Address = address;
        Id = id;
        var dll = Path.Combine(AppContext.BaseDirectory, "OrleansControl.Samples.SchemeServer.dll");
        var start = new ProcessStartInfo(netns is null ? "dotnet" : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (netns is not null)
        {
            foreach (var arg in new[] { "netns", "exec", netns, "dotnet" })
            {
                start.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in new[] { dll, "--Listen", address, "--ServerId", id }.Concat(settings ?? []))
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the scheme server");
        _process.OutputDataReceived += (_, e) =>
        {
            Output.Enqueue(e.Data ?? "");
            if (e.Data?.Contains("listening on", StringComparison.Ordinal) == true)
            {
                _listening.TrySetResult();
            }
        };
        _process.ErrorDataReceived += (_, e) => Output.Enqueue(e.Data ?? "");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Address { get; }

    /// <summary>Its standard output and error, line by line.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; } = new();

    /// <summary>What it names itself in field 44 of its answers.</summary>
    public string Id { get; }

    /// <summary>Starts one and waits until it listens; <paramref name="settings"/> are more command-line arguments.</summary>
    public static async Task<SchemeProcess> StartAsync(string address, string id, string? netns = null, IEnumerable<string>? settings = null)
    {
        var scheme = new SchemeProcess(address, id, netns, settings);
        try
        {
            await scheme._listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return scheme;
        }
        catch
        {
            scheme.Dispose();
            throw;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
    }
}
