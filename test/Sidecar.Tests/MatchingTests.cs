using System.Collections.Concurrent;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

public sealed class MatchingTests
{
    [Fact]
    public async Task Many_requests_in_flight_each_get_their_own_response_when_answered_out_of_order()
    {
        await using var scheme = new Scheme { Hold = true };
        await using var client = await Links.ConnectAsync(scheme.Address);
        const int n = 500;

        var sends = Enumerable.Range(1, n)
            .Select(i => (Amount: 1000L + i, Task: client.SendAsync(Scheme.Authorization(i.ToString("D6"), $"T{i % 7}", 1000 + i))))
            .ToList();
        await scheme.WaitHeldAsync(n);
        Assert.Equal(n, client.InFlight);

        var random = new Random(42);
        scheme.ReleaseAll(all => all.OrderBy(_ => random.Next()));

        foreach (var (amount, task) in sends)
        {
            var response = await task;
            Assert.Equal(amount, response.GetInt64(4));
            Assert.Equal("00", response.GetString(39));
        }

        Assert.Equal(0, client.InFlight);
        Assert.Equal(n, client.Health().ResponsesMatched);
    }

    [Fact]
    public async Task Same_stan_on_different_terminals_are_different_requests()
    {
        await using var scheme = new Scheme { Hold = true };
        await using var client = await Links.ConnectAsync(scheme.Address);

        var a = client.SendAsync(Scheme.Authorization("000777", "TERMA", 1));
        var b = client.SendAsync(Scheme.Authorization("000777", "TERMB", 2));
        await scheme.WaitHeldAsync(2);
        scheme.ReleaseAll(all => all.Reverse());

        Assert.Equal(1, (await a).GetInt64(4));
        Assert.Equal(2, (await b).GetInt64(4));
    }

    [Fact]
    public async Task Duplicate_key_in_flight_is_refused_without_sending()
    {
        await using var scheme = new Scheme { Hold = true };
        await using var client = await Links.ConnectAsync(scheme.Address);

        var first = client.SendAsync(Scheme.Authorization("000042"));
        var error = Assert.Throws<SidecarException>(() => { _ = client.SendAsync(Scheme.Authorization("000042")); });
        Assert.Equal(SidecarError.DuplicateKey, error.Error);

        await scheme.WaitHeldAsync(1);
        scheme.ReleaseAll();
        Assert.Equal("00", (await first).GetString(39));
        Assert.Single(scheme.Received);

        // Once answered, the key is free again.
        scheme.Hold = false;
        Assert.Equal("00", (await client.SendAsync(Scheme.Authorization("000042"))).GetString(39));
    }

    [Fact]
    public async Task Request_without_response_ends_with_a_timeout()
    {
        await using var scheme = new Scheme { Answer = false };
        await using var client = await Links.ConnectAsync(scheme.Address);

        var error = await Assert.ThrowsAsync<SidecarException>(() => client.SendAsync(Scheme.Authorization("000001"), TimeSpan.FromMilliseconds(300)));

        Assert.Equal(SidecarError.Timeout, error.Error);
        Assert.Equal(0, client.InFlight);
        Assert.Equal(1, client.Health().RequestTimeouts);
    }

    [Fact]
    public async Task Late_response_is_handed_to_the_inbound_handler()
    {
        var unmatched = new ConcurrentQueue<IsoMessage>();
        await using var scheme = new Scheme { Delay = TimeSpan.FromMilliseconds(700) };
        await using var client = await Links.ConnectAsync(scheme.Address, inbound: new DelegateInboundHandler(onUnmatched: (_, m) => unmatched.Enqueue(m)));

        var error = await Assert.ThrowsAsync<SidecarException>(() => client.SendAsync(Scheme.Authorization("000123"), TimeSpan.FromMilliseconds(200)));
        Assert.Equal(SidecarError.Timeout, error.Error);

        await Eventually.TrueAsync(() => !unmatched.IsEmpty, TimeSpan.FromSeconds(5), "late response delivered");
        var late = Assert.Single(unmatched);
        Assert.Equal(210, late.Mti.Value);
        Assert.Equal("000123", late.GetString(11));
        Assert.Equal(1, client.Health().UnmatchedResponses);
    }

    [Fact]
    public async Task In_flight_cap_refuses_the_request_over_the_limit()
    {
        await using var scheme = new Scheme { Hold = true };
        await using var client = await Links.ConnectAsync(scheme.Address, o => o.MaxInFlight = 4);

        var accepted = Enumerable.Range(1, 4).Select(i => client.SendAsync(Scheme.Authorization(i.ToString("D6")))).ToList();
        var error = Assert.Throws<SidecarException>(() => { _ = client.SendAsync(Scheme.Authorization("000005")); });
        Assert.Equal(SidecarError.InFlightLimit, error.Error);

        await scheme.WaitHeldAsync(4);
        scheme.ReleaseAll();
        await Task.WhenAll(accepted);
        scheme.Hold = false;
        Assert.Equal("00", (await client.SendAsync(Scheme.Authorization("000005"))).GetString(39));
        Assert.Equal(4, scheme.Received.Count - 1);
    }

    [Fact]
    public async Task A_message_the_spec_cannot_pack_fails_alone_and_the_link_stays_up()
    {
        await using var scheme = new Scheme { Hold = true };
        await using var client = await Links.ConnectAsync(scheme.Address);
        var inFlight = client.SendAsync(Scheme.Authorization("000001"));
        await scheme.WaitHeldAsync(1);

        var bad = Scheme.Authorization("000002").Set(4, "12AB"); // letters in an n 12 amount
        var error = await Assert.ThrowsAsync<SidecarException>(() => client.SendAsync(bad));

        Assert.Equal(SidecarError.InvalidMessage, error.Error);
        Assert.Equal(Health.ConnectionState.SignedOn, client.State);
        scheme.ReleaseAll();
        Assert.Equal("00", (await inFlight).GetString(39));
    }
}
