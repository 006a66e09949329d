using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OrleansControl.Sidecar.Server;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>A listener of ours never shares its port: a second one fails at start-up, naming the setting that moves it.</summary>
public sealed class ListenerTests
{
    [Fact]
    public async Task A_second_scheme_server_on_a_port_in_use_fails_at_start_naming_the_setting()
    {
        await using var first = new Scheme("first");
        await using var second = new IsoServer(new IsoServerOptions { Name = "second", Listen = first.Address }, first);

        var e = Assert.Throws<SidecarException>(second.Start);

        Assert.Equal(SidecarError.ListenFailed, e.Error);
        Assert.Contains($"127.0.0.1:{first.Port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("Scheme:Listener:Listen", e.Message, StringComparison.Ordinal);
        Assert.Null(second.Endpoint);
        // The first keeps its port (and all of its connections).
        await using var link = await Links.ConnectAsync(first.Address);
        Assert.Equal("00", (await link.SendAsync(Scheme.Authorization("000001"))).GetString(39));
    }

    [Fact]
    public async Task A_port_another_process_holds_with_SO_REUSEPORT_is_refused()
    {
        // The worst neighbour: a process that itself allows sharing (SO_REUSEADDR and SO_REUSEPORT), as .NET's
        // ReuseAddress does on Linux. Ours must still refuse to join it.
        var python = Environment.GetEnvironmentVariable("ORLEANSCONTROL_PYTHON") ?? "/usr/bin/python3";
        var port = FreeLoopbackPort();
        using var holder = Process.Start(new ProcessStartInfo(python,
        [
            "-c",
            "import socket,sys,time\n" +
            "s=socket.socket()\n" +
            "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n" +
            "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEPORT,1)\n" +
            $"s.bind(('127.0.0.1',{port}))\n" +
            "s.listen(8)\n" +
            "print('listening',flush=True)\n" +
            "time.sleep(60)\n",
        ])
        { RedirectStandardOutput = true })!;
        try
        {
            Assert.Equal("listening", await holder.StandardOutput.ReadLineAsync());
            await using var handler = new Scheme();
            await using var ours = new IsoServer(new IsoServerOptions { Name = "scheme-1", Listen = $"127.0.0.1:{port}" }, handler);

            var e = Assert.Throws<SidecarException>(ours.Start);

            Assert.Equal(SidecarError.ListenFailed, e.Error);
            Assert.Contains("in use", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            holder.Kill();
            await holder.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_restarted_server_takes_its_port_back_at_once()
    {
        int port;
        await using (var before = new Scheme("before"))
        {
            port = before.Port;
            await using var link = await Links.ConnectAsync(before.Address);
            Assert.Equal("00", (await link.SendAsync(Scheme.Authorization("000001"))).GetString(39));
        }

        // The old sessions may still be in TIME_WAIT: SO_REUSEADDR (without SO_REUSEPORT) lets the restart bind.
        await using var after = new Scheme("after", port: port);
        Assert.Equal(port, after.Port);
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
