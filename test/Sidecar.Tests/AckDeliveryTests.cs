using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>
/// A command's ack counts as delivered only once the controller says it applied it (Applied): one refused as
/// UNAVAILABLE is sent again, and one never applied stays out of last_acked_sequence, so after a re-attach the command
/// comes again and is answered from what the agent remembers, not run again (issue 15).
/// </summary>
public sealed class AckDeliveryTests
{
    [Fact]
    public async Task An_ack_refused_as_unavailable_is_sent_again_and_the_move_runs_once()
    {
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(AgentTests.AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn && link.Server == a.Address, TimeSpan.FromSeconds(10), "on A");

        controller.Shared.RefuseAck = ack => ack.CommandId == "m1";
        await controller.Shared.Commands.Writer.WriteAsync(new Command
        {
            CommandId = "m1",
            Sequence = 1,
            Kind = CommandKind.ReconnectElsewhere,
            ConnectionId = "sidecar-1.bank-a",
            TargetServerAddress = b.Address,
        });
        await Eventually.TrueAsync(() => controller.Shared.Acks.Count(x => x.CommandId == "m1") == 2, TimeSpan.FromSeconds(10), "m1 acknowledged again after the refusal");
        await Eventually.TrueAsync(() => agent.Status().LastAckedSequence == 1, TimeSpan.FromSeconds(5), "m1 counted once applied");

        var acks = controller.Shared.Acks.Where(x => x.CommandId == "m1").ToList();
        Assert.All(acks, x => Assert.Equal((1ul, true, b.Address, $"signed on to {b.Address}"), (x.Sequence, x.Success, x.ServerAddress, x.Detail)));
        Assert.Single(agent.Status().RecentCommands, c => c.CommandId == "m1"); // carried out once
        Assert.Single(b.Events, e => e.Event == "opened");
        await Task.Delay(600); // no third copy: applied is the end of it
        Assert.Equal(2, controller.Shared.Acks.Count(x => x.CommandId == "m1"));
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task An_ack_never_applied_is_left_out_of_the_re_attach_and_its_command_is_answered_not_run_again()
    {
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(AgentTests.AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn && link.Server == a.Address, TimeSpan.FromSeconds(10), "on A");

        // Applied: a command before, so the re-attach has something to count.
        await controller.Shared.Commands.Writer.WriteAsync(new Command { CommandId = "s1", Sequence = 1, Kind = CommandKind.StopSending, ConnectionId = "sidecar-1.bank-a" });
        await Eventually.TrueAsync(() => agent.Status().LastAckedSequence == 1, TimeSpan.FromSeconds(10), "s1 applied");

        // The gateway takes the move's ack but cannot apply it (its grains unreachable), then its stream ends.
        controller.Shared.ApplyAcks = false;
        var move = new Command { CommandId = "m2", Sequence = 2, Kind = CommandKind.ReconnectElsewhere, ConnectionId = "sidecar-1.bank-a", TargetServerAddress = b.Address };
        await controller.Shared.Commands.Writer.WriteAsync(move);
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "m2"), TimeSpan.FromSeconds(10), "m2 acknowledged");
        Assert.Equal(b.Address, link.SignedOnAt);
        Assert.Equal(1ul, agent.Status().LastAckedSequence);
        var attaches = Volatile.Read(ref controller.Shared.Attaches);
        controller.Shared.ApplyAcks = true;
        controller.Shared.EndStreams();

        // The re-attach does not claim the move's ack: the outbox would send the move again.
        await Eventually.TrueAsync(() => Volatile.Read(ref controller.Shared.Attaches) > attaches && agent.Status().ControllerAttached, TimeSpan.FromSeconds(10), "attached again");
        Assert.Equal(1ul, controller.Shared.Registers.Last().LastAckedSequence);
        await controller.Shared.Commands.Writer.WriteAsync(move);
        await Eventually.TrueAsync(() => agent.Status().LastAckedSequence == 2, TimeSpan.FromSeconds(10), "m2 applied after the re-attach");
        var again = controller.Shared.Acks.Last(x => x.CommandId == "m2");
        Assert.Equal((true, b.Address), (again.Success, again.ServerAddress));
        Assert.StartsWith("already executed", again.Detail);
        Assert.Single(b.Events, e => e.Event == "opened"); // not moved twice
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task An_own_move_counts_as_reported_only_once_applied_and_is_reported_again_after_a_re_attach()
    {
        var a = new Scheme("A");
        var left = a.Address;
        await using var c = new Scheme("C");
        await using var controller = await FakeController.StartAsync(assign: left);
        var options = AgentTests.AgentOptions(controller.Address);
        options.MoveCommandTimeout = TimeSpan.FromMilliseconds(300);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(options), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.SignedOnAt == left && agent.Attached, TimeSpan.FromSeconds(10), "on A");
        await controller.Shared.Commands.Writer.WriteAsync(OwnFailoverTests.Backups("b1", 1, c.Address));
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "b1"), TimeSpan.FromSeconds(10), "b1 acknowledged");

        // The gateway takes the report of the own move but its grain never has it (no Applied), then the stream ends.
        controller.Shared.ApplyOwnMoves = false;
        await a.DisposeAsync();
        await Eventually.TrueAsync(() => controller.Shared.States.Any(s => s.MovedFrom == left), TimeSpan.FromSeconds(10), "the move reported");
        await Task.Delay(500);
        Assert.False(agent.Status().LastOwnMove!.Reported);
        Assert.Single(controller.Shared.States, s => s.MovedFrom == left); // once per stream
        var attaches = Volatile.Read(ref controller.Shared.Attaches);
        controller.Shared.ApplyOwnMoves = true;
        controller.Shared.EndStreams();

        // Attached again: the move is reported again, and counts once applied.
        await Eventually.TrueAsync(() => Volatile.Read(ref controller.Shared.Attaches) > attaches, TimeSpan.FromSeconds(10), "attached again");
        await Eventually.TrueAsync(() => agent.Status().LastOwnMove!.Reported, TimeSpan.FromSeconds(10), "the move applied");
        var reports = controller.Shared.States.Where(s => s.MovedFrom == left).ToList();
        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.Equal((LinkState.SignedOn, c.Address), (r.State, r.ServerAddress)));
        await agent.StopAsync(CancellationToken.None);
    }
}
