using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Server;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

public sealed class FailureTests
{
    [Fact]
    public async Task Server_reset_reports_down_at_once_and_every_request_in_flight_gets_a_result()
    {
        await using var scheme = new Scheme { Hold = true };
        await using var client = await Links.ConnectAsync(scheme.Address, o => o.RequestTimeout = TimeSpan.FromSeconds(30));
        var states = new StateLog(client);
        var sends = Enumerable.Range(1, 50).Select(i => client.SendAsync(Scheme.Authorization(i.ToString("D6")))).ToList();
        await scheme.WaitHeldAsync(50);

        var clock = Stopwatch.StartNew();
        scheme.Server.CloseSessions(reset: true);

        foreach (var send in sends)
        {
            var error = await Assert.ThrowsAsync<SidecarException>(() => send);
            Assert.Equal(SidecarError.ConnectionLost, error.Error);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"results took {clock.Elapsed}, well past an RST");
        Assert.True(states.Saw(ConnectionState.Down));
        Assert.Equal(0, client.InFlight);
        Assert.Equal(50, client.Health().RequestsLost);
    }

    [Fact]
    public async Task Black_hole_is_detected_by_echo_timeout()
    {
        using var blackHole = new BlackHoleServer();
        var interval = TimeSpan.FromSeconds(1);
        var timeout = TimeSpan.FromSeconds(1);
        await using var client = await Links.ConnectAsync(blackHole.Address, o =>
        {
            o.EchoInterval = interval;
            o.EchoTimeout = timeout;
            o.EchoMissesBeforeDown = 2;
            o.ReconnectInitialDelay = TimeSpan.FromSeconds(5);
            o.ReconnectMaxDelay = TimeSpan.FromSeconds(5);
        });
        var states = new StateLog(client);
        var clock = Stopwatch.StartNew();

        // First miss after interval + timeout: degraded.
        await Eventually.TrueAsync(() => states.Saw(ConnectionState.Degraded), interval + timeout + TimeSpan.FromSeconds(2), "degraded");
        var degradedAt = clock.Elapsed;
        // Second miss: down (and reconnecting).
        await Eventually.TrueAsync(() => states.Saw(ConnectionState.Down), timeout + TimeSpan.FromSeconds(3), "down");

        Assert.True(degradedAt >= interval, $"degraded after {degradedAt}, before the echo interval");
        Assert.Contains(states.Changes, c => c.Current == ConnectionState.Down && c.Reason.Contains("echo", StringComparison.Ordinal));
        Assert.True(client.Health().EchoTimeouts >= 2);
    }

    [Fact]
    public async Task Reconnects_with_backoff_until_the_server_is_back()
    {
        var scheme = new Scheme();
        var port = scheme.Port;
        await using var client = await Links.ConnectAsync(scheme.Address);
        var states = new StateLog(client);

        await scheme.DisposeAsync();
        await Eventually.TrueAsync(() => states.Changes.Count(c => c.Current == ConnectionState.Down) >= 3, TimeSpan.FromSeconds(10), "several failed attempts");

        // Accepted while down: waits for the link within its timeout.
        var waiting = client.SendAsync(Scheme.Authorization("000555"));
        await using var back = new Scheme("back", port: port);
        await Eventually.TrueAsync(() => client.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "signed on again");

        Assert.Equal("back", (await waiting).GetString(44));
        var attempts = states.Changes.Count(c => c.Current == ConnectionState.Connecting);
        Assert.True(attempts >= 3, $"{attempts} connect attempts");
        Assert.True(client.Health().Reconnects >= 1);
    }

    [Fact]
    public async Task Reconnect_command_moves_the_link_without_losing_accepted_requests()
    {
        await using var a = new Scheme("A") { Hold = true };
        await using var b = new Scheme("B");
        await using var client = await Links.ConnectAsync(a.Address);
        var inFlight = Enumerable.Range(1, 20).Select(i => client.SendAsync(Scheme.Authorization(i.ToString("D6")))).ToList();
        await a.WaitHeldAsync(20);

        await client.ConnectToAsync(b.Address);
        var after = client.SendAsync(Scheme.Authorization("000100"));
        Assert.Equal("B", (await after).GetString(44));

        // The old server still owes 20 answers; they arrive on the old session, which then signs off.
        Assert.DoesNotContain(a.Events, e => e.Event == "signed-off");
        a.ReleaseAll();
        foreach (var send in inFlight)
        {
            Assert.Equal("A", (await send).GetString(44));
        }

        await Eventually.TrueAsync(() => a.Events.Any(e => e.Event == "closed"), TimeSpan.FromSeconds(5), "old session closed");
        Assert.Equal(["opened", "signed-on", "signed-off", "closed"], a.Events.Select(e => e.Event));
        Assert.Equal(b.Address, client.Server);
        Assert.Equal(ConnectionState.SignedOn, client.State);
        Assert.Equal(0, client.Health().RequestsLost);
    }

    [Fact]
    public async Task Drain_refuses_new_requests_and_completes_those_in_flight()
    {
        await using var scheme = new Scheme { Delay = TimeSpan.FromMilliseconds(300) };
        await using var client = await Links.ConnectAsync(scheme.Address);
        var inFlight = Enumerable.Range(1, 10).Select(i => client.SendAsync(Scheme.Authorization(i.ToString("D6")))).ToList();

        var drain = client.DrainAsync(TimeSpan.FromSeconds(10));
        var refused = Assert.Throws<SidecarException>(() => { _ = client.SendAsync(Scheme.Authorization("000099")); });

        Assert.Equal(SidecarError.NotAccepting, refused.Error);
        Assert.Equal(0, await drain);
        foreach (var send in inFlight)
        {
            Assert.Equal("00", (await send).GetString(39));
        }

        Assert.Equal(ConnectionState.Closed, client.State);
        await Eventually.TrueAsync(() => scheme.Events.Any(e => e.Event == "signed-off"), TimeSpan.FromSeconds(5), "signed off");
    }

    [Fact]
    public async Task Drain_deadline_ends_unanswered_requests_with_a_result()
    {
        await using var scheme = new Scheme { Hold = true };
        await using var client = await Links.ConnectAsync(scheme.Address);
        var stuck = client.SendAsync(Scheme.Authorization("000001"));
        await scheme.WaitHeldAsync(1);

        Assert.Equal(1, await client.DrainAsync(TimeSpan.FromMilliseconds(200)));

        var error = await Assert.ThrowsAsync<SidecarException>(() => stuck);
        Assert.Equal(SidecarError.ConnectionLost, error.Error);
    }

    [Fact]
    public async Task After_an_outage_and_a_drain_a_connect_command_brings_the_link_back()
    {
        await using var scheme = new Scheme();
        await using var client = await Links.ConnectAsync(scheme.Address);
        var states = new StateLog(client);
        scheme.Server.CloseSessions(reset: true);
        await Eventually.TrueAsync(() => states.Saw(ConnectionState.Down) && client.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "reconnected");
        await client.DrainAsync(TimeSpan.FromSeconds(1));

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectToAsync(scheme.Address, deadline.Token);

        Assert.Equal(ConnectionState.SignedOn, client.State);
        Assert.Equal("00", (await client.SendAsync(Scheme.Authorization("000001"))).GetString(39));
    }

    [Fact]
    public async Task Server_refuses_sessions_over_its_capacity()
    {
        await using var scheme = new Scheme(configure: o => o.MaxSessions = 1);
        await using var first = await Links.ConnectAsync(scheme.Address);
        await using var second = new Client.IsoClient(Links.Options(scheme.Address));
        var states = new StateLog(second);
        second.Start();

        await Eventually.TrueAsync(() => states.Changes.Count(c => c.Current == ConnectionState.Down) >= 2, TimeSpan.FromSeconds(10), "second refused twice");

        Assert.False(states.Saw(ConnectionState.SignedOn));
        Assert.Single(scheme.Server.Sessions);
        Assert.Equal(ConnectionState.SignedOn, first.State);
    }

    [Fact]
    public async Task Stop_sending_to_a_client_blocks_server_requests_to_it_only()
    {
        await using var scheme = new Scheme();
        await using var bank1 = await Links.ConnectAsync(scheme.Address, o => o.InstitutionId = "111");
        await using var bank2 = await Links.ConnectAsync(scheme.Address, o => o.InstitutionId = "222");
        await Eventually.TrueAsync(() => scheme.Server.Sessions.Count(s => s.SignedOn) == 2, TimeSpan.FromSeconds(5), "both signed on");
        var wire = IsoWire.Create(new IsoServerOptions());

        Assert.Equal(1, scheme.Server.StopSending("111"));

        var error = await Assert.ThrowsAsync<SidecarException>(() => scheme.Server.SendAsync("111", NetworkManagement.Echo(wire, "000001")));
        Assert.Equal(SidecarError.SendingStopped, error.Error);
        Assert.Equal("00", (await scheme.Server.SendAsync("222", NetworkManagement.Echo(wire, "000002"))).GetString(39));
        Assert.True(scheme.Server.Sessions.Single(s => s.ClientId == "111").SendingStopped);
    }

    [Fact]
    public async Task A_late_stop_sending_decision_spares_a_session_the_client_opened_after_it()
    {
        await using var scheme = new Scheme();
        await using var before = await Links.ConnectAsync(scheme.Address, o => o.InstitutionId = "333");
        await Eventually.TrueAsync(() => scheme.Server.Sessions.Count(s => s.SignedOn) == 1, TimeSpan.FromSeconds(5), "first signed on");
        var decidedAt = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        await using var after = await Links.ConnectAsync(scheme.Address, o => o.InstitutionId = "333");
        await Eventually.TrueAsync(() => scheme.Server.Sessions.Count(s => s.SignedOn) == 2, TimeSpan.FromSeconds(5), "second signed on");

        Assert.Equal(1, scheme.Server.StopSending("333", decidedAt));

        var sessions = scheme.Server.Sessions.OrderBy(s => s.OpenedAt).ToList();
        Assert.Equal([true, false], sessions.Select(s => s.SendingStopped));
    }

    [Fact]
    public async Task Server_closes_a_session_that_stays_silent_past_its_idle_timeout()
    {
        await using var scheme = new Scheme(configure: o => o.IdleTimeout = TimeSpan.FromMilliseconds(600));
        // Echoes only every minute: the client says nothing after signing on.
        await using var client = await Links.ConnectAsync(scheme.Address);
        var states = new StateLog(client);

        await Eventually.TrueAsync(() => scheme.Events.Any(e => e.Event == "closed"), TimeSpan.FromSeconds(10), "closed by the server");

        Assert.Contains("silent", scheme.Events.Single(e => e.Event == "closed").Detail, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => states.Saw(ConnectionState.Down), TimeSpan.FromSeconds(5), "client saw it");
    }

    /// <summary>Answers the sign-on, then never reads or answers again while keeping the socket open.</summary>
    private sealed class BlackHoleServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Socket> _accepted = [];

        public BlackHoleServer()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        private async Task AcceptAsync()
        {
            var wire = IsoWire.Create(new IsoServerOptions());
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync();
                    lock (_accepted)
                    {
                        _accepted.Add(socket);
                    }

                    var stream = new NetworkStream(socket);
                    var reader = PipeReader.Create(stream);
                    var writer = PipeWriter.Create(stream);
                    var result = await reader.ReadAsync();
                    var buffer = result.Buffer;
                    while (!wire.TryReadFrame(ref buffer, out _))
                    {
                        reader.AdvanceTo(buffer.Start, buffer.End);
                        result = await reader.ReadAsync();
                        buffer = result.Buffer;
                    }

                    var frame = result.Buffer.Slice(0, buffer.Start);
                    wire.TryReadFrame(ref frame, out var signOnFrame);
                    var signOn = wire.Unpack(signOnFrame);
                    wire.WriteFrame(writer, NetworkManagement.Answer(wire, signOn));
                    await writer.FlushAsync();
                    // From here on: silence. Nothing more is read; the socket stays open.
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException or OperationCanceledException)
            {
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            lock (_accepted)
            {
                _accepted.ForEach(s => s.Dispose());
            }
        }
    }
}
