using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Tests.Support;
using Xunit.Abstractions;

namespace OrleansControl.Sidecar.Tests;

/// <summary>
/// A real black hole: the scheme server runs in a network namespace whose packets then vanish (no RST, no error).
/// Needs root (ip netns); elsewhere the test prints why and returns.
/// </summary>
public sealed class BlackHoleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_black_hole_is_left_for_the_backup_within_one_echo_interval_and_timeout()
    {
        using var ns = NetworkNamespace.TryCreate(out var reason);
        if (ns is null)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        using var a = await SchemeProcess.StartAsync($"{ns.InnerAddress}:{Random.Shared.Next(20_000, 60_000)}", "scheme-a", ns.Name);
        await using var b = new Scheme("scheme-b");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        var (interval, timeout) = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        await using var link = new IsoClient(Links.Options(server: "", o =>
        {
            (o.EchoInterval, o.EchoTimeout, o.EchoMissesBeforeDown) = (interval, timeout, 2);
            o.ConnectTimeout = TimeSpan.FromSeconds(3);
        }));
        using var agent = new SidecarAgent(link, Options.Create(AgentTests.AgentOptions(controller.Address)), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address && agent.Attached, TimeSpan.FromSeconds(15), "on A in the namespace");
        await controller.Shared.Commands.Writer.WriteAsync(OwnFailoverTests.Backups("b1", 1, b.Address));
        await Eventually.TrueAsync(() => agent.Status().Backups.Count == 1, TimeSpan.FromSeconds(5), "backup known");

        var states = new StateLog(link);
        var suspicions = new System.Collections.Concurrent.ConcurrentQueue<LinkSuspicion>();
        link.Suspected += suspicions.Enqueue;
        using var traffic = new Traffic(link, TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => traffic.FirstFrom("scheme-a") is not null, TimeSpan.FromSeconds(5), "traffic on A");
        ns.PinNeighbour();
        await Task.Delay(300);
        var holeAt = Stopwatch.GetTimestamp(); // before the tc command: its process start counts against us
        ns.BlackHole();
        await Eventually.TrueAsync(() => traffic.FirstFrom("scheme-b") is not null, TimeSpan.FromSeconds(15), "traffic on the backup");

        var recovered = Stopwatch.GetElapsedTime(holeAt, traffic.FirstFrom("scheme-b")!.Value);
        var sinceLastAnswer = Stopwatch.GetElapsedTime(traffic.LastFrom("scheme-a")!.Value, traffic.FirstFrom("scheme-b")!.Value);
        var target = interval + timeout + TimeSpan.FromMilliseconds(300);
        output.WriteLine($"black hole -> first approval on the backup: {recovered.TotalMilliseconds:F0} ms from the tc command, "
            + $"{sinceLastAnswer.TotalMilliseconds:F0} ms from A's last answer (target {target.TotalMilliseconds:F0} ms)");
        var holeWall = DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(holeAt);
        foreach (var change in states.Changes)
        {
            output.WriteLine($"  +{(change.At - holeWall).TotalMilliseconds:F0} ms {change.Previous} -> {change.Current}: {change.Reason}");
        }

        foreach (var suspicion in suspicions)
        {
            output.WriteLine($"  +{(suspicion.At - holeWall).TotalMilliseconds:F0} ms suspected {suspicion.Server} after {suspicion.EchoMisses} echo misses");
        }

        output.WriteLine($"  own move: {agent.Status().LastOwnMove}, at +{(agent.Status().LastOwnMove!.At - holeWall).TotalMilliseconds:F0} ms");
        Assert.True(recovered < TimeSpan.FromSeconds(3.5), $"the backup's first approval came {recovered.TotalMilliseconds:F0} ms after the black hole");
        Assert.Equal(b.Address, link.SignedOnAt);
        await Eventually.TrueAsync(() => controller.Shared.States.Any(s => s.MovedFrom == a.Address), TimeSpan.FromSeconds(5), "the move reported");
        var report = controller.Shared.States.First(s => s.MovedFrom == a.Address);
        Assert.Equal((LinkState.SignedOn, b.Address), (report.State, report.ServerAddress));
        Assert.Equal("suspect", agent.Status().LastOwnMove!.Cause);
        await agent.StopAsync(CancellationToken.None);
    }
}
