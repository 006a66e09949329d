using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>Heartbeats, state reports and acks say where the link really is signed on: the registry follows them.</summary>
public sealed class LinkEvidenceTests
{
    [Fact]
    public async Task Heartbeats_say_signed_on_at_the_real_server_and_nowhere_once_it_is_gone()
    {
        var scheme = new Scheme("A");
        var address = scheme.Address;
        await using var controller = await FakeController.StartAsync(assign: address);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(AgentTests.AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => controller.Shared.Heartbeats.Any(h => h.LinkState == LinkState.SignedOn && h.ServerAddress == address),
            TimeSpan.FromSeconds(10), "a signed-on heartbeat naming A");
        Assert.Contains(controller.Shared.States, r => r.State == LinkState.SignedOn && r.ServerAddress == address);

        await scheme.DisposeAsync();
        await Eventually.TrueAsync(() => link.SignedOnAt is null, TimeSpan.FromSeconds(10), "the link lost");
        var seen = controller.Shared.Received.Count;
        IEnumerable<Heartbeat> After() => controller.Shared.Received.Skip(seen)
            .Where(m => m.BodyCase == SidecarMessage.BodyOneofCase.Heartbeat).Select(m => m.Heartbeat).Skip(1); // one may be in flight
        await Eventually.TrueAsync(() => After().Count() >= 2, TimeSpan.FromSeconds(5), "two heartbeats after the loss");

        Assert.All(After(), h =>
        {
            Assert.NotEqual(LinkState.SignedOn, h.LinkState);
            Assert.NotEqual(LinkState.Unspecified, h.LinkState);
            Assert.Equal("", h.ServerAddress);
        });
        Assert.All(controller.Shared.States.Where(r => r.State == LinkState.Failed), r => Assert.Equal("", r.ServerAddress));
        Assert.Equal(address, link.Server); // still the target it keeps trying, but not where it is
        await agent.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_move_that_does_not_sign_on_in_time_is_acked_failed_with_where_the_link_is_signed_on()
    {
        var a = new Scheme("A");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(AgentTests.AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address, TimeSpan.FromSeconds(10), "on A");
        var commands = controller.Shared.Commands.Writer;

        // The new server refuses: the link stays on A, and the ack says so.
        await commands.WriteAsync(ControllerRestartTests.Move("m1", 1, $"127.0.0.1:{AgentTests.FreePort()}", TimeSpan.FromSeconds(2)));
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "m1"), TimeSpan.FromSeconds(10), "m1 acknowledged");
        var stayed = controller.Shared.Acks.Single(x => x.CommandId == "m1");
        Assert.False(stayed.Success);
        Assert.Equal(a.Address, stayed.ServerAddress);

        // With A gone too, a connect that misses its deadline is signed on nowhere.
        await a.DisposeAsync();
        await Eventually.TrueAsync(() => link.SignedOnAt is null, TimeSpan.FromSeconds(10), "the link lost");
        var connect = ControllerRestartTests.Move("m2", 2, $"127.0.0.1:{AgentTests.FreePort()}", TimeSpan.FromMilliseconds(500));
        connect.Kind = CommandKind.Connect;
        await commands.WriteAsync(connect);
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "m2"), TimeSpan.FromSeconds(10), "m2 acknowledged");
        var missed = controller.Shared.Acks.Single(x => x.CommandId == "m2");
        Assert.False(missed.Success);
        Assert.Contains("before the deadline", missed.Detail);
        Assert.Equal("", missed.ServerAddress);
        await agent.StopAsync(CancellationToken.None);
    }
}
