using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>"Already executed" is decided by command id; sequences only feed the cumulative ack.</summary>
public sealed class ControllerRestartTests
{
    private const string ConnectionId = "sidecar-1.bank-a";

    internal static Command Move(string id, ulong sequence, string target, TimeSpan? deadline = null) => new()
    {
        CommandId = id,
        Sequence = sequence,
        Kind = CommandKind.ReconnectElsewhere,
        ConnectionId = ConnectionId,
        TargetServerAddress = target,
        Deadline = deadline is { } d ? Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + d) : null,
    };

    [Fact]
    public async Task A_restarted_controller_numbering_from_1_again_is_obeyed()
    {
        await using var a = new Scheme("A");
        var b = new Scheme("B");
        await using var c = new Scheme("C");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        controller.Shared.Incarnation = "outbox-1";
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(AgentTests.AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address, TimeSpan.FromSeconds(10), "on A");
        var commands = controller.Shared.Commands.Writer;
        await commands.WriteAsync(Move("old-1", 1, b.Address));
        await commands.WriteAsync(Move("old-2", 2, a.Address));
        await commands.WriteAsync(Move("old-3", 3, b.Address));
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "old-3"), TimeSpan.FromSeconds(10), "old-3 acknowledged");
        Assert.Equal(b.Address, link.SignedOnAt);
        Assert.Equal(3ul, agent.Status().LastAckedSequence);
        Assert.Equal("outbox-1", agent.Status().OutboxIncarnation);

        // The controller restarts on in-memory storage (a new outbox that numbers from 1 again) and B dies.
        controller.Shared.Incarnation = "outbox-2";
        controller.Shared.ResumedAfter = 0;
        controller.Shared.EndStreams();
        await b.DisposeAsync();
        await Eventually.TrueAsync(() => agent.Status().OutboxIncarnation == "outbox-2", TimeSpan.FromSeconds(10), "attached to the new outbox");
        Assert.Equal(0ul, agent.Status().LastAckedSequence);
        Assert.Equal(3ul, controller.Shared.Registers.Last().LastAckedSequence);

        // Its failover command is sequence 1 again: carried out, not taken for the old controller's #1.
        await commands.WriteAsync(Move("new-1", 1, c.Address));
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "new-1"), TimeSpan.FromSeconds(10), "new-1 acknowledged");
        var ack = controller.Shared.Acks.Single(x => x.CommandId == "new-1");
        Assert.True(ack.Success, ack.Detail);
        Assert.DoesNotContain("already executed", ack.Detail);
        Assert.Equal(c.Address, ack.ServerAddress);
        Assert.Equal(c.Address, link.SignedOnAt);
        Assert.Equal("C", (await link.SendAsync(Scheme.Authorization("000001"))).GetString(44));
        Assert.Equal(1ul, agent.Status().LastAckedSequence);

        // Attaching again, the sidecar acks in the new numbering, not the old controller's 3.
        controller.Shared.ResumedAfter = null;
        controller.Shared.EndStreams();
        await Eventually.TrueAsync(() => controller.Shared.Registers.Count() == 3, TimeSpan.FromSeconds(10), "attached a third time");
        Assert.Equal(1ul, controller.Shared.Registers.Last().LastAckedSequence);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_resent_command_id_is_acknowledged_with_its_outcome_and_not_executed_again()
    {
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(AgentTests.AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address, TimeSpan.FromSeconds(10), "on A");
        var commands = controller.Shared.Commands.Writer;
        var nowhere = $"127.0.0.1:{AgentTests.FreePort()}";
        await commands.WriteAsync(Move("c1", 1, b.Address));
        // Done before c2 arrives: a move arriving while another is still signing on would abandon it.
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "c1"), TimeSpan.FromSeconds(10), "c1 acknowledged");
        await commands.WriteAsync(Move("c2", 2, nowhere, TimeSpan.FromSeconds(2)));
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "c2"), TimeSpan.FromSeconds(10), "c2 acknowledged");
        var failed = controller.Shared.Acks.Single(x => x.CommandId == "c2");
        Assert.False(failed.Success);

        // The stream breaks before the controller saw the acks: it resends both, same ids and sequences.
        controller.Shared.EndStreams();
        await Eventually.TrueAsync(() => controller.Shared.Attaches == 2 && agent.Attached, TimeSpan.FromSeconds(10), "attached again");
        await commands.WriteAsync(Move("c1", 1, b.Address));
        await commands.WriteAsync(Move("c2", 2, nowhere, TimeSpan.FromSeconds(2)));
        await Eventually.TrueAsync(() => controller.Shared.Acks.Count(x => x.CommandId == "c2") == 2, TimeSpan.FromSeconds(5), "c2 acknowledged twice");

        var again = controller.Shared.Acks.Where(x => x.CommandId == "c1").ToList();
        Assert.Equal(2, again.Count);
        Assert.True(again[1].Success);
        Assert.Equal($"already executed: {again[0].Detail}", again[1].Detail);
        Assert.Equal(b.Address, again[1].ServerAddress);
        var failedAgain = controller.Shared.Acks.Last(x => x.CommandId == "c2");
        Assert.False(failedAgain.Success);
        Assert.Equal($"already executed: {failed.Detail}", failedAgain.Detail);
        Assert.Single(b.Events, e => e.Event == "opened");
        Assert.Equal(b.Address, link.SignedOnAt);
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void Executed_commands_remember_the_newest_ids_up_to_capacity()
    {
        var executed = new ExecutedCommands(capacity: 4);
        for (var i = 1; i <= 6; i++)
        {
            executed.Remember($"c{i}", new CommandOutcome(i % 2 == 0, $"d{i}"));
        }

        executed.Remember("c6", new CommandOutcome(false, "ignored: first outcome wins"));
        Assert.Equal(4, executed.Count);
        Assert.False(executed.TryGet("c1", out _));
        Assert.False(executed.TryGet("c2", out _));
        Assert.True(executed.TryGet("c3", out var third));
        Assert.Equal(new CommandOutcome(false, "d3"), third);
        Assert.True(executed.TryGet("c6", out var sixth));
        Assert.Equal(new CommandOutcome(true, "d6"), sixth);
    }
}
