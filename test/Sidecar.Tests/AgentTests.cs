using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

public sealed class AgentTests
{
    internal static SidecarAgentOptions AgentOptions(string controller) => new()
    {
        Controller = controller,
        SidecarId = "sidecar-1",
        ClientId = "bank-a",
        ServerPool = "scheme",
        HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        RetryInitialDelay = TimeSpan.FromMilliseconds(100),
        RetryMaxDelay = TimeSpan.FromMilliseconds(300),
    };

    [Fact]
    public async Task Registers_follows_the_assignment_and_streams_heartbeats_and_state()
    {
        await using var scheme = new Scheme("A");
        await using var controller = await FakeController.StartAsync(assign: scheme.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);

        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "signed on to the assigned server");
        await Eventually.TrueAsync(() => controller.Shared.Heartbeats.Count() >= 3, TimeSpan.FromSeconds(10), "three heartbeats");
        await Eventually.TrueAsync(() => controller.Shared.States.Any(s => s.State == LinkState.SignedOn), TimeSpan.FromSeconds(5), "signed-on reported");

        var registration = Assert.Single(controller.Shared.Registrations);
        Assert.Equal("bank-a", registration.ClientId);
        Assert.Equal("sidecar-1.bank-a", registration.ConnectionId);
        Assert.Equal("sidecar-1", controller.Shared.Received.First().Register.SidecarId);
        Assert.All(controller.Shared.Heartbeats, h => Assert.Equal("sidecar-1.bank-a", h.ConnectionId));
        Assert.Equal(scheme.Address, link.Server);
        Assert.True(agent.Status().ControllerAttached);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task The_signed_on_state_report_names_the_clients_end_of_the_link_as_the_server_sees_it()
    {
        // The server side's session report names the client by its end of the link; the controller must know that end
        // from the moment of the sign-on (a client killed before its next heartbeat is judged by it, issue 15).
        await using var scheme = new Scheme("A");
        await using var controller = await FakeController.StartAsync(assign: scheme.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        var options = AgentOptions(controller.Address);
        options.HeartbeatInterval = TimeSpan.FromMinutes(1); // no heartbeat says it: only the state report can
        using var agent = new SidecarAgent(link, Options.Create(options), NullLogger<SidecarAgent>.Instance);

        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => controller.Shared.States.Any(s => s.State == LinkState.SignedOn), TimeSpan.FromSeconds(10), "signed-on reported");

        var signedOn = controller.Shared.States.First(s => s.State == LinkState.SignedOn);
        Assert.Equal(link.LocalAddress, signedOn.LocalAddress);
        var session = Assert.Single(scheme.Server.Sessions);
        Assert.Equal(IsoEndpoint.Normalize(session.Remote), signedOn.LocalAddress);
        Assert.All(controller.Shared.States.Where(s => s.State != LinkState.SignedOn), s => Assert.Equal("", s.LocalAddress));
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_registration_naming_another_server_leaves_a_signed_on_link_where_it_is()
    {
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        // E.g. a controller restarted on in-memory storage: it assigns the preferred server, the link is elsewhere.
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        await using var link = new IsoClient(Links.Options(server: b.Address));
        link.Start();
        await Eventually.TrueAsync(() => link.SignedOnAt == b.Address, TimeSpan.FromSeconds(10), "signed on at B");
        using var agent = new SidecarAgent(link, Options.Create(AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);

        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => controller.Shared.Heartbeats.Count() >= 3, TimeSpan.FromSeconds(10), "three heartbeats");

        Assert.Single(controller.Shared.Registrations);
        Assert.Equal(b.Address, link.SignedOnAt);
        Assert.DoesNotContain(a.Events, e => e.Event == "opened");
        Assert.Equal(b.Address, controller.Shared.Heartbeats.Last().ServerAddress); // the controller learns where it is
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task When_its_gateway_dies_the_sidecar_attaches_to_another_within_a_second()
    {
        await using var a = new Scheme("A");
        var first = await FakeController.StartAsync(assign: a.Address);
        await using var second = await FakeController.StartAsync(assign: a.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        var options = AgentOptions($"{first.Address},{second.Address}");
        options.RetryMaxDelay = TimeSpan.FromSeconds(15); // the backoff must not be what brings it back
        using var agent = new SidecarAgent(link, Options.Create(options), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => agent.Attached && first.Shared.Heartbeats.Any(), TimeSpan.FromSeconds(10), "attached to the first gateway");

        await first.DisposeAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.TrueAsync(() => second.Shared.Heartbeats.Any(), TimeSpan.FromSeconds(10), "heartbeats at the second gateway");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"took {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(second.Address, agent.Status().Controller);
        Assert.Single(second.Shared.Registers);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_connect_command_leaves_a_signed_on_link_where_it_is_and_says_where()
    {
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var controller = await FakeController.StartAsync(assign: b.Address);
        await using var link = new IsoClient(Links.Options(server: b.Address));
        link.Start();
        await Eventually.TrueAsync(() => link.SignedOnAt == b.Address, TimeSpan.FromSeconds(10), "signed on at B");
        using var agent = new SidecarAgent(link, Options.Create(AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);

        // A restarted controller's first registration sends CONNECT to the server it just assigned.
        await controller.Shared.Commands.Writer.WriteAsync(new Command
        {
            CommandId = "connect-1",
            Sequence = 1,
            Kind = CommandKind.Connect,
            ConnectionId = "sidecar-1.bank-a",
            TargetServerAddress = a.Address,
        });
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "connect-1"), TimeSpan.FromSeconds(10), "acknowledged");

        var ack = controller.Shared.Acks.Single(x => x.CommandId == "connect-1");
        Assert.Equal((true, b.Address), (ack.Success, ack.ServerAddress));
        Assert.Equal(b.Address, link.SignedOnAt);
        Assert.DoesNotContain(a.Events, e => e.Event == "opened");
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Commands_are_executed_once_and_acknowledged()
    {
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn && link.Server == a.Address, TimeSpan.FromSeconds(10), "on A");
        var commands = controller.Shared.Commands.Writer;

        var move = new Command { CommandId = "c1", Sequence = 1, Kind = CommandKind.ReconnectElsewhere, ConnectionId = "sidecar-1.bank-a", TargetServerAddress = b.Address };
        await commands.WriteAsync(move);
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "c1"), TimeSpan.FromSeconds(10), "c1 acknowledged");
        Assert.True(controller.Shared.Acks.Single(x => x.CommandId == "c1").Success);
        Assert.Equal(b.Address, controller.Shared.Acks.Single(x => x.CommandId == "c1").ServerAddress);
        Assert.Equal(b.Address, link.Server);
        Assert.Equal("B", (await link.SendAsync(Scheme.Authorization("000001"))).GetString(44));

        // A resend of the same command (as after a stream reconnect) is acknowledged, not redone.
        await commands.WriteAsync(move);
        await Eventually.TrueAsync(() => controller.Shared.Acks.Count(x => x.CommandId == "c1") == 2, TimeSpan.FromSeconds(5), "c1 acknowledged twice");
        Assert.StartsWith("already executed", controller.Shared.Acks.Last(x => x.CommandId == "c1").Detail);
        Assert.Single(b.Events, e => e.Event == "opened");

        await commands.WriteAsync(new Command { CommandId = "c2", Sequence = 2, Kind = CommandKind.StopSending, ConnectionId = "sidecar-1.bank-a" });
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "c2"), TimeSpan.FromSeconds(5), "c2 acknowledged");
        Assert.Equal(SidecarError.SendingStopped, Assert.Throws<SidecarException>(() => { _ = link.SendAsync(Scheme.Authorization("000002")); }).Error);

        await commands.WriteAsync(new Command { CommandId = "c3", Sequence = 3, Kind = CommandKind.Drain, ConnectionId = "other-connection" });
        await commands.WriteAsync(new Command { CommandId = "c4", Sequence = 4, Kind = CommandKind.SignOff, ConnectionId = "sidecar-1.bank-a" });
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "c4"), TimeSpan.FromSeconds(10), "c4 acknowledged");
        Assert.False(controller.Shared.Acks.Single(x => x.CommandId == "c3").Success);
        Assert.True(controller.Shared.Acks.Single(x => x.CommandId == "c4").Success);
        Assert.Equal(ConnectionState.Closed, link.State);
        Assert.Contains(b.Events, e => e.Event == "signed-off");
        Assert.Equal(4ul, agent.Status().LastAckedSequence);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Iso_traffic_continues_while_the_controller_is_unreachable_and_the_agent_keeps_retrying()
    {
        await using var scheme = new Scheme("A");
        var port = FreePort();
        await using var link = new IsoClient(Links.Options(scheme.Address));
        using var agent = new SidecarAgent(link, Options.Create(AgentOptions($"http://127.0.0.1:{port}")), NullLogger<SidecarAgent>.Instance);

        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "signed on without a controller");
        for (var i = 1; i <= 20; i++)
        {
            Assert.Equal("00", (await link.SendAsync(Scheme.Authorization(i.ToString("D6")))).GetString(39));
        }

        await Eventually.TrueAsync(() => agent.Status().ControllerError is not null, TimeSpan.FromSeconds(10), "a failed attempt recorded");
        Assert.False(agent.Status().ControllerAttached);

        // The controller comes up: the agent attaches on its own.
        await using var controller = await FakeController.StartAsync(port);
        await Eventually.TrueAsync(() => agent.Status().ControllerAttached, TimeSpan.FromSeconds(10), "attached once the controller is up");
        await Eventually.TrueAsync(() => controller.Shared.Heartbeats.Any(), TimeSpan.FromSeconds(5), "heartbeat");
        Assert.Equal(ConnectionState.SignedOn, link.State);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_lost_link_is_reported_failed_once_per_episode_and_signed_on_again_when_back()
    {
        var scheme = new Scheme("A");
        var port = scheme.Port;
        await using var controller = await FakeController.StartAsync(assign: scheme.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        var states = new StateLog(link);
        using var agent = new SidecarAgent(link, Options.Create(AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => controller.Shared.States.Any(r => r.State == LinkState.SignedOn), TimeSpan.FromSeconds(10), "signed-on reported");

        await scheme.DisposeAsync();
        await Eventually.TrueAsync(() => states.Changes.Count(c => c.Current == ConnectionState.Down) >= 3, TimeSpan.FromSeconds(10), "three failed attempts");
        await Task.Delay(300); // let the reports of those attempts reach the controller

        Assert.Single(controller.Shared.States, r => r.State == LinkState.Failed);

        await using var back = new Scheme("A2", port: port);
        await Eventually.TrueAsync(() => controller.Shared.States.Count(r => r.State == LinkState.SignedOn) >= 2, TimeSpan.FromSeconds(10), "signed on again");
        await agent.StopAsync(CancellationToken.None);
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
