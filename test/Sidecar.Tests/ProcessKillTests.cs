using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

public sealed class ProcessKillTests
{
    [Fact]
    public async Task Killing_the_scheme_server_process_takes_the_link_down_at_once_and_it_comes_back_with_the_process()
    {
        var port = FreePort();
        using var first = StartSchemeServer(port, "scheme-p1");
        await using var client = await Links.ConnectAsync($"127.0.0.1:{port}", o => o.ConnectTimeout = TimeSpan.FromSeconds(2));
        Assert.Equal("scheme-p1", (await client.SendAsync(Scheme.Authorization("000001"))).GetString(44));
        var states = new StateLog(client);

        var clock = Stopwatch.StartNew();
        first.Kill(entireProcessTree: true);
        await Eventually.TrueAsync(() => states.Saw(ConnectionState.Down), TimeSpan.FromSeconds(5), "down after the kill");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));

        using var second = StartSchemeServer(port, "scheme-p2");
        await Eventually.TrueAsync(() => client.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(20), "signed on to the restarted process");
        Assert.Equal("scheme-p2", (await client.SendAsync(Scheme.Authorization("000002"))).GetString(44));
        second.Kill(entireProcessTree: true);
    }

    private static Process StartSchemeServer(int port, string id)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "OrleansControl.Samples.SchemeServer.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--Listen", $"127.0.0.1:{port}", "--ServerId", id },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the scheme server");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
