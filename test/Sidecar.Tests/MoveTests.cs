using System.Diagnostics;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>A move abandons what is in progress; a failed move leaves the link where it was.</summary>
public sealed class MoveTests
{
    [Fact]
    public async Task A_move_abandons_a_connect_in_progress_to_a_server_that_does_not_answer()
    {
        using var dark = new UnansweredConnects();
        await using var b = new Scheme("B");
        await using var client = new IsoClient(Links.Options(dark.Address, o => o.ConnectTimeout = TimeSpan.FromSeconds(10)));
        var states = new StateLog(client);
        client.Start();
        await Eventually.TrueAsync(() => states.Saw(ConnectionState.Connecting), TimeSpan.FromSeconds(5), "connecting");
        await Task.Delay(300); // the SYN is out and unanswered

        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.ConnectToAsync(b.Address, deadline.Token);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"the move took {clock.Elapsed.TotalMilliseconds:F0} ms: it waited for the connect timeout");
        Assert.Equal(b.Address, client.SignedOnAt);
        Assert.Equal("B", (await client.SendAsync(Scheme.Authorization("000001"))).GetString(44));
        Assert.DoesNotContain(states.Changes, c => c.Current == ConnectionState.Down);
    }

    [Fact]
    public async Task A_move_abandons_a_sign_on_in_progress()
    {
        using var mute = new UnansweredSignOns();
        await using var b = new Scheme("B");
        await using var client = new IsoClient(Links.Options(mute.Address, o => o.SignOnTimeout = TimeSpan.FromSeconds(10)));
        client.Start();
        await Eventually.TrueAsync(() => mute.Accepted == 1, TimeSpan.FromSeconds(5), "connected, signing on");
        await Task.Delay(200);

        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.ConnectToAsync(b.Address, deadline.Token);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"the move took {clock.Elapsed.TotalMilliseconds:F0} ms: it waited for the sign-on timeout");
        Assert.Equal(b.Address, client.SignedOnAt);
        Assert.Equal(1, mute.Accepted);
    }

    [Fact]
    public async Task A_newer_move_supersedes_one_still_connecting()
    {
        using var dark = new UnansweredConnects();
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var client = await Links.ConnectAsync(a.Address, o => o.ConnectTimeout = TimeSpan.FromSeconds(10));

        var first = client.ConnectToAsync(dark.Address);
        await Task.Delay(300);
        var clock = Stopwatch.StartNew();
        await client.ConnectToAsync(b.Address);

        var superseded = await Assert.ThrowsAsync<SidecarException>(() => first);
        Assert.Equal(SidecarError.Superseded, superseded.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"took {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(b.Address, client.SignedOnAt);
        Assert.Equal(b.Address, client.Server);
    }

    [Fact]
    public async Task After_a_failed_make_before_break_move_the_link_reconnects_to_its_old_server()
    {
        await using var a = new Scheme("A");
        await using var client = await Links.ConnectAsync(a.Address);
        var nowhere = $"127.0.0.1:{AgentTests.FreePort()}";

        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectToAsync(nowhere));
        Assert.Equal(a.Address, client.Server);
        Assert.Equal(a.Address, client.SignedOnAt);

        // The old session drops later: the link comes back on the old server, not on the one that failed.
        var states = new StateLog(client);
        a.Server.CloseSessions(reset: true);
        await Eventually.TrueAsync(() => states.Saw(ConnectionState.Down) && client.SignedOnAt == a.Address, TimeSpan.FromSeconds(10), "back on A");
        Assert.DoesNotContain(states.Changes, c => c.Reason.Contains(nowhere, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Requests_in_flight_on_the_server_moved_away_from_keep_their_own_timeout()
    {
        await using var a = new Scheme("A") { Hold = true };
        await using var b = new Scheme("B");
        await using var client = await Links.ConnectAsync(a.Address, o => o.DrainTimeout = TimeSpan.FromMilliseconds(100));
        var held = client.SendAsync(Scheme.Authorization("000001"), TimeSpan.FromSeconds(1.5));
        await a.WaitHeldAsync(1);

        await client.ConnectToAsync(b.Address);
        var clock = Stopwatch.StartNew();

        // Past the 100 ms drain timeout the old session is still there for it: it ends by its own timeout.
        var error = await Assert.ThrowsAsync<SidecarException>(() => held);
        Assert.Equal(SidecarError.Timeout, error.Error);
        Assert.True(clock.Elapsed > TimeSpan.FromMilliseconds(800), $"ended after {clock.Elapsed.TotalMilliseconds:F0} ms");
        await Eventually.TrueAsync(() => a.Events.Any(e => e.Event == "closed"), TimeSpan.FromSeconds(5), "old session closed");
        Assert.Equal("B", (await client.SendAsync(Scheme.Authorization("000002"))).GetString(44));
    }

    [Fact]
    public void Backoff_with_a_cap_keeps_its_jitter_below_the_cap()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(15), new Random(7));
        var delays = Enumerable.Range(0, 12).Select(_ => backoff.Next(TimeSpan.FromSeconds(2))).ToList();

        Assert.All(delays, d => Assert.InRange(d.TotalMilliseconds, 250, 2000));
        Assert.All(delays.Skip(3), d => Assert.InRange(d.TotalMilliseconds, 1000, 2000));
        Assert.True(delays.Skip(3).Distinct().Count() > 1, "the jitter stays");
        Assert.True(backoff.Next() >= TimeSpan.FromSeconds(7.5), "without the cap it grows to its maximum");
    }
}
