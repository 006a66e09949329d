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

public sealed class ProcessKillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_the_scheme_server_process_takes_the_link_down_at_once_and_it_comes_back_with_the_process()
    {
        var address = $"127.0.0.1:{SchemeProcess.FreePort()}";
        using var first = await SchemeProcess.StartAsync(address, "scheme-p1");
        await using var client = await Links.ConnectAsync(address, o => o.ConnectTimeout = TimeSpan.FromSeconds(2));
        Assert.Equal("scheme-p1", (await client.SendAsync(Scheme.Authorization("000001"))).GetString(44));
        var states = new StateLog(client);

        var clock = Stopwatch.StartNew();
        first.Kill();
        await Eventually.TrueAsync(() => states.Saw(ConnectionState.Down), TimeSpan.FromSeconds(5), "down after the kill");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));

        using var second = await SchemeProcess.StartAsync(address, "scheme-p2");
        await Eventually.TrueAsync(() => client.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(20), "signed on to the restarted process");
        Assert.Equal("scheme-p2", (await client.SendAsync(Scheme.Authorization("000002"))).GetString(44));
    }

    [Fact]
    public async Task Server_killed_while_the_controller_is_down_traffic_resumes_on_the_backup_and_the_move_is_reported_on_return()
    {
        using var a = await SchemeProcess.StartAsync($"127.0.0.1:{SchemeProcess.FreePort()}", "scheme-a");
        using var b = await SchemeProcess.StartAsync($"127.0.0.1:{SchemeProcess.FreePort()}", "scheme-b");
        var controllerPort = SchemeProcess.FreePort();
        var controller = await FakeController.StartAsync(controllerPort, assign: a.Address);
        await using var link = new IsoClient(Links.Options(server: "", o => o.ReconnectMaxDelay = TimeSpan.FromSeconds(5)));
        var options = AgentTests.AgentOptions(controller.Address);
        (options.RetryInitialDelay, options.RetryMaxDelay) = (TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(15)); // the defaults
        using var agent = new SidecarAgent(link, Options.Create(options), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => link.SignedOnAt == a.Address && agent.Attached, TimeSpan.FromSeconds(10), "on A");
        await controller.Shared.Commands.Writer.WriteAsync(OwnFailoverTests.Backups("b1", 1, b.Address));
        await Eventually.TrueAsync(() => agent.Status().Backups.Count == 1, TimeSpan.FromSeconds(5), "backups kept");

        await controller.DisposeAsync();
        await Eventually.TrueAsync(() => !agent.Attached, TimeSpan.FromSeconds(5), "controller gone");
        var controllerDown = Stopwatch.StartNew();

        using var traffic = new Traffic(link);
        await Eventually.TrueAsync(() => traffic.FirstFrom("scheme-a") is not null, TimeSpan.FromSeconds(5), "traffic on A");
        var killedAt = Stopwatch.GetTimestamp();
        a.Kill();
        await Eventually.TrueAsync(() => traffic.FirstFrom("scheme-b") is not null, TimeSpan.FromSeconds(10), "traffic on B");
        var resumed = Stopwatch.GetElapsedTime(killedAt, traffic.FirstFrom("scheme-b")!.Value);
        output.WriteLine($"kill -> first approval on the backup: {resumed.TotalMilliseconds:F0} ms");
        Assert.True(resumed < TimeSpan.FromSeconds(1.5), $"traffic resumed {resumed.TotalMilliseconds:F0} ms after the kill");
        Assert.Equal(b.Address, link.SignedOnAt);
        Assert.Equal(new OwnMove(a.Address, b.Address, "down", agent.Status().LastOwnMove!.At, Reported: false), agent.Status().LastOwnMove);

        // The controller was down long enough for the retry delay to grow past 2 s, were it not capped while linked.
        await Task.Delay(TimeSpan.FromSeconds(6) - controllerDown.Elapsed);
        await using var back = await FakeController.StartAsync(controllerPort);
        var returned = Stopwatch.StartNew();
        await Eventually.TrueAsync(() => agent.Attached, TimeSpan.FromSeconds(10), "attached again");
        output.WriteLine($"controller back -> attached: {returned.Elapsed.TotalMilliseconds:F0} ms");
        // Our delay (≤ 2 s) and the channel's own reconnect backoff (≤ 2 s) run side by side: about 2 s, bounded by 4.
        Assert.True(returned.Elapsed < TimeSpan.FromSeconds(4), $"re-attached {returned.Elapsed.TotalMilliseconds:F0} ms after the controller came back");
        await Eventually.TrueAsync(() => back.Shared.States.Any(s => s.MovedFrom.Length > 0), TimeSpan.FromSeconds(5), "the move reported");
        var report = back.Shared.States.First(s => s.MovedFrom.Length > 0);
        Assert.Equal((LinkState.SignedOn, b.Address, a.Address), (report.State, report.ServerAddress, report.MovedFrom));
        await Eventually.TrueAsync(() => agent.Status().LastOwnMove!.Reported, TimeSpan.FromSeconds(5), "the move applied by the controller");
        await Eventually.TrueAsync(() => back.Shared.Heartbeats.Any(h => h.ServerAddress == b.Address && h.LinkState == LinkState.SignedOn), TimeSpan.FromSeconds(5), "heartbeat at B");
        await agent.StopAsync(CancellationToken.None);
    }
}
