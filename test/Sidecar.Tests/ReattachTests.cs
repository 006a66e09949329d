using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Tests.Support;
using Xunit.Abstractions;

namespace OrleansControl.Sidecar.Tests;

/// <summary>
/// The control path after a stream breaks: the sidecar is back fast, and the registry learns the link's state whatever
/// the broken stream took with it.
/// </summary>
public sealed class ReattachTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_controller_that_comes_back_is_attached_to_again_within_2_s_with_the_default_retry_settings()
    {
        await using var a = new Scheme("A");
        var controller = await FakeController.StartAsync(assign: a.Address);
        var port = new Uri(controller.Address).Port;
        await using var link = new IsoClient(Links.Options(server: ""));
        var options = new SidecarAgentOptions // the shipped retry settings: 500 ms initial, 15 s max, the cap while linked
        {
            Controller = controller.Address,
            SidecarId = "sidecar-1",
            ClientId = "bank-a",
            ServerPool = "scheme",
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        };
        using var agent = new SidecarAgent(link, Options.Create(options), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => agent.Attached && link.SignedOnAt == a.Address, TimeSpan.FromSeconds(10), "attached, signed on at A");

        var times = new List<double>();
        for (var restart = 1; restart <= 3; restart++)
        {
            // Down long enough for the backoff to reach its cap: the agent retries at its slowest when the controller is back.
            await controller.DisposeAsync();
            await Eventually.TrueAsync(() => !agent.Attached, TimeSpan.FromSeconds(10), "detached from the stopped controller");
            await Task.Delay(TimeSpan.FromSeconds(4));
            controller = await FakeController.StartAsync(port, assign: a.Address);
            var clock = Stopwatch.StartNew();
            await Eventually.TrueAsync(() => agent.Attached, TimeSpan.FromSeconds(20), "attached to the restarted controller");
            times.Add(clock.Elapsed.TotalMilliseconds);
            output.WriteLine($"restart {restart}: attached again {clock.Elapsed.TotalMilliseconds:F0} ms after the controller was up");
        }

        await controller.DisposeAsync();
        await agent.StopAsync(CancellationToken.None);
        Assert.Equal(a.Address, link.SignedOnAt); // the data path never noticed
        Assert.All(times, ms => Assert.True(ms <= 2_000, $"attached again after {string.Join(", ", times.Select(t => $"{t:F0}"))} ms (target ≤ 2 s)"));
    }

    [Fact]
    public async Task A_failed_report_lost_with_its_stream_is_said_again_on_reattach_and_by_every_heartbeat()
    {
        var a = new Scheme("A");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        await using var link = new IsoClient(Links.Options(server: ""));
        using var agent = new SidecarAgent(link, Options.Create(AgentTests.AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address && controller.Shared.Heartbeats.Any(h => h.LinkState == LinkState.SignedOn),
            TimeSpan.FromSeconds(10), "signed on at A, heard by the controller");

        // The gateway takes the FAILED report off the stream and dies before the registry hears it.
        controller.Shared.LoseAndEndStream = m => m.BodyCase == SidecarMessage.BodyOneofCase.StateReport && m.StateReport.State == LinkState.Failed;
        await a.DisposeAsync(); // the server dies; no backups known, so the link stays down and keeps retrying A
        await Eventually.TrueAsync(() => !controller.Shared.Lost.IsEmpty, TimeSpan.FromSeconds(10), "the FAILED report lost with the stream");
        await Eventually.TrueAsync(() => controller.Shared.Registers.Count() >= 2 && AfterLastRegister(controller).Count(m => m.BodyCase == SidecarMessage.BodyOneofCase.Heartbeat) >= 5,
            TimeSpan.FromSeconds(10), "attached again, five heartbeats");

        var after = AfterLastRegister(controller);
        output.WriteLine($"after re-attach: {string.Join(", ", after.Select(m => m.BodyCase == SidecarMessage.BodyOneofCase.Heartbeat ? $"heartbeat {m.Heartbeat.LinkState}" : $"{m.BodyCase} {m.StateReport?.State}"))}; link {link.State}");
        Assert.Null(link.SignedOnAt);
        var report = after.First(m => m.BodyCase == SidecarMessage.BodyOneofCase.StateReport).StateReport;
        Assert.Equal(LinkState.Failed, report.State); // not CONNECTING: the link's reconnect attempts are not news
        Assert.All(after.Where(m => m.BodyCase == SidecarMessage.BodyOneofCase.Heartbeat), m => Assert.Equal(LinkState.Failed, m.Heartbeat.LinkState));
        await agent.StopAsync(CancellationToken.None);
    }

    private static List<SidecarMessage> AfterLastRegister(FakeController controller) =>
        [.. controller.Shared.Received.Reverse().TakeWhile(m => m.BodyCase != SidecarMessage.BodyOneofCase.Register).Reverse()];
}
