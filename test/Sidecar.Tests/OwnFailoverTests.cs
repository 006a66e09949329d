using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>The sidecar moves to a ranked backup on its own when the controller cannot decide in time; the controller wins when it can.</summary>
public sealed class OwnFailoverTests
{
    private const string ConnectionId = "sidecar-1.bank-a";

    internal static Command Backups(string id, ulong sequence, params string[] addresses)
    {
        var command = new Command { CommandId = id, Sequence = sequence, Kind = CommandKind.Backups, ConnectionId = ConnectionId };
        command.Backups.AddRange(addresses.Select((a, i) => new BackupServer { ServerId = $"backup-{i + 1}", Address = a, Zone = "z1" }));
        return command;
    }

    private static async Task<(IsoClient Link, SidecarAgent Agent)> StartAsync(FakeController controller, Action<SidecarAgentOptions>? agent = null, Action<IsoClientOptions>? link = null)
    {
        var client = new IsoClient(Links.Options(server: "", link));
        var options = AgentTests.AgentOptions(controller.Address);
        agent?.Invoke(options);
        var sidecar = new SidecarAgent(client, Options.Create(options), NullLogger<SidecarAgent>.Instance);
        await sidecar.StartAsync(CancellationToken.None);
        return (client, sidecar);
    }

    private static Task Acked(FakeController controller, string id) =>
        Eventually.TrueAsync(() => controller.Shared.Acks.Any(a => a.CommandId == id), TimeSpan.FromSeconds(10), $"{id} acknowledged");

    [Fact]
    public async Task The_latest_backups_command_is_kept_and_shown()
    {
        await using var a = new Scheme("A");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        var (link, agent) = await StartAsync(controller);
        await using var _ = link;
        using var __ = agent;
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address, TimeSpan.FromSeconds(10), "on A");

        await controller.Shared.Commands.Writer.WriteAsync(Backups("b1", 1, "127.0.0.1:7001", "127.0.0.1:7002"));
        await controller.Shared.Commands.Writer.WriteAsync(Backups("b2", 2, "not-an-address", "127.0.0.1:7003", "127.0.0.1:7004", "127.0.0.1:7003"));
        await Acked(controller, "b2");

        Assert.True(controller.Shared.Acks.Single(x => x.CommandId == "b2").Success);
        Assert.Contains("2 invalid or repeated dropped", controller.Shared.Acks.Single(x => x.CommandId == "b2").Detail);
        Assert.Equal(["127.0.0.1:7003", "127.0.0.1:7004"], agent.Status().Backups.Select(b => b.Address));
        Assert.Equal("backup-2", agent.Status().Backups[0].ServerId);
        Assert.Equal(a.Address, link.SignedOnAt); // a list is not a move
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_silent_controller_gets_its_timeout_then_the_sidecar_moves_to_the_first_usable_backup()
    {
        var a = new Scheme("A");
        var left = a.Address;
        await using var c = new Scheme("C");
        await using var controller = await FakeController.StartAsync(assign: left);
        var (link, agent) = await StartAsync(controller, o => o.MoveCommandTimeout = TimeSpan.FromMilliseconds(500));
        await using var _ = link;
        using var __ = agent;
        await Eventually.TrueAsync(() => link.SignedOnAt == left && agent.Attached, TimeSpan.FromSeconds(10), "on A");
        var refused = $"127.0.0.1:{AgentTests.FreePort()}";
        await controller.Shared.Commands.Writer.WriteAsync(Backups("b1", 1, left, refused, c.Address));
        await Acked(controller, "b1");

        var clock = Stopwatch.StartNew();
        await a.DisposeAsync();
        await Eventually.TrueAsync(() => link.SignedOnAt == c.Address, TimeSpan.FromSeconds(5), "on C");

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(450), $"moved after {clock.Elapsed.TotalMilliseconds:F0} ms, before the controller's time was up");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"moved after {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal("C", (await link.SendAsync(Scheme.Authorization("000001"))).GetString(44));
        await Eventually.TrueAsync(() => controller.Shared.States.Any(s => s.MovedFrom.Length > 0), TimeSpan.FromSeconds(5), "the move reported");
        var report = controller.Shared.States.Single(s => s.MovedFrom.Length > 0);
        Assert.Equal((LinkState.SignedOn, c.Address, left), (report.State, report.ServerAddress, report.MovedFrom));
        // Reported once the controller applied it (its Applied follows the report).
        await Eventually.TrueAsync(() => agent.Status().LastOwnMove?.Reported == true, TimeSpan.FromSeconds(5), "the move applied");
        Assert.Equal(new OwnMove(left, c.Address, "down", agent.Status().LastOwnMove!.At, Reported: true), agent.Status().LastOwnMove);
        await Eventually.TrueAsync(() => controller.Shared.Heartbeats.LastOrDefault()?.ServerAddress == c.Address, TimeSpan.FromSeconds(5), "heartbeats at C");
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_move_command_within_the_timeout_wins_over_the_sidecars_own_choice()
    {
        var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var c = new Scheme("C");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        var (link, agent) = await StartAsync(controller, o => o.MoveCommandTimeout = TimeSpan.FromSeconds(2));
        await using var _ = link;
        using var __ = agent;
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address && agent.Attached, TimeSpan.FromSeconds(10), "on A");
        await controller.Shared.Commands.Writer.WriteAsync(Backups("b1", 1, c.Address));
        await Acked(controller, "b1");

        await a.DisposeAsync();
        await Eventually.TrueAsync(() => controller.Shared.States.Any(s => s.State == LinkState.Failed), TimeSpan.FromSeconds(5), "failure reported");
        await controller.Shared.Commands.Writer.WriteAsync(ControllerRestartTests.Move("m1", 2, b.Address));
        await Acked(controller, "m1");
        await Task.Delay(2500); // past the timeout: the sidecar's own move must not follow

        Assert.Equal(b.Address, link.SignedOnAt);
        Assert.Empty(c.Events);
        Assert.DoesNotContain(controller.Shared.States, s => s.MovedFrom.Length > 0);
        Assert.Null(agent.Status().LastOwnMove);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_move_command_during_a_connect_to_a_dark_server_takes_effect_at_once()
    {
        using var dark = new UnansweredConnects();
        await using var b = new Scheme("B");
        await using var controller = await FakeController.StartAsync(assign: dark.Address);
        var (link, agent) = await StartAsync(controller, link: o => o.ConnectTimeout = TimeSpan.FromSeconds(10));
        await using var _ = link;
        using var __ = agent;
        await Eventually.TrueAsync(() => agent.Attached && link.Server == dark.Address && link.State == ConnectionState.Connecting, TimeSpan.FromSeconds(10), "connecting to the dark server");
        await Task.Delay(300);

        var clock = Stopwatch.StartNew();
        await controller.Shared.Commands.Writer.WriteAsync(ControllerRestartTests.Move("m1", 1, b.Address, TimeSpan.FromSeconds(5)));
        await Acked(controller, "m1");

        var ack = controller.Shared.Acks.Single(x => x.CommandId == "m1");
        Assert.True(ack.Success, ack.Detail);
        Assert.Equal(b.Address, ack.ServerAddress);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"took {clock.Elapsed.TotalMilliseconds:F0} ms: the connect to the dark server was waited for");
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_move_command_abandons_the_previous_move_command_still_connecting()
    {
        using var dark = new UnansweredConnects();
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        var (link, agent) = await StartAsync(controller, link: o => o.ConnectTimeout = TimeSpan.FromSeconds(10));
        await using var _ = link;
        using var __ = agent;
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address && agent.Attached, TimeSpan.FromSeconds(10), "on A");

        await controller.Shared.Commands.Writer.WriteAsync(ControllerRestartTests.Move("m1", 1, dark.Address, TimeSpan.FromSeconds(8)));
        await Task.Delay(500);
        var clock = Stopwatch.StartNew();
        await controller.Shared.Commands.Writer.WriteAsync(ControllerRestartTests.Move("m2", 2, b.Address, TimeSpan.FromSeconds(8)));
        await Acked(controller, "m2");

        // Far below the 10 s connect timeout it would otherwise wait for; slack for a loaded 2-core machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed.TotalMilliseconds:F0} ms");
        var first = controller.Shared.Acks.Single(x => x.CommandId == "m1");
        Assert.False(first.Success);
        Assert.Contains("m2", first.Detail);
        Assert.True(controller.Shared.Acks.Single(x => x.CommandId == "m2").Success);
        Assert.Equal(b.Address, link.SignedOnAt);
        Assert.Equal(2ul, agent.Status().LastAckedSequence);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_command_whose_deadline_passed_is_refused_at_once()
    {
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        var (link, agent) = await StartAsync(controller);
        await using var _ = link;
        using var __ = agent;
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address && agent.Attached, TimeSpan.FromSeconds(10), "on A");

        var stale = ControllerRestartTests.Move("late", 1, b.Address);
        stale.Deadline = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(-1));
        await controller.Shared.Commands.Writer.WriteAsync(stale);
        await Acked(controller, "late");

        var ack = controller.Shared.Acks.Single(x => x.CommandId == "late");
        Assert.False(ack.Success);
        Assert.Contains("deadline passed", ack.Detail);
        Assert.Equal(a.Address, link.SignedOnAt);
        Assert.Empty(b.Events);
        await agent.StopAsync(CancellationToken.None);
    }
}
