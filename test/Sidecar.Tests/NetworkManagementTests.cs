using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

public sealed class NetworkManagementTests
{
    [Fact]
    public async Task Echo_test_is_sent_when_the_link_is_idle_and_its_rtt_recorded()
    {
        await using var scheme = new Scheme();
        await using var client = await Links.ConnectAsync(scheme.Address, o => o.EchoInterval = TimeSpan.FromSeconds(1));

        await Eventually.TrueAsync(() => client.Health().EchoesSent >= 2, TimeSpan.FromSeconds(6), "two echoes sent");

        var health = client.Health();
        Assert.Equal(0, health.EchoTimeouts);
        Assert.True(health.LastEchoRttMs > 0);
        Assert.True(health.Score >= LinkHealth.DegradedBelow, $"score {health.Score}"); // 100 unless the machine stalls an echo past 250 ms
        Assert.Equal(ConnectionState.SignedOn, health.State);
    }

    [Fact]
    public async Task No_echo_is_needed_while_responses_keep_arriving()
    {
        await using var scheme = new Scheme();
        await using var client = await Links.ConnectAsync(scheme.Address, o => o.EchoInterval = TimeSpan.FromSeconds(2));

        // Three echo intervals of traffic with gaps a twentieth of the interval: silence never lasts long enough.
        for (var i = 1; i <= 60; i++)
        {
            await client.SendAsync(Scheme.Authorization(i.ToString("D6")));
            await Task.Delay(100);
        }

        Assert.Equal(0, client.Health().EchoesSent);
    }

    [Fact]
    public async Task Peer_echo_is_answered_by_the_link()
    {
        await using var scheme = new Scheme();
        await using var client = await Links.ConnectAsync(scheme.Address);
        var wire = IsoWire.Create(new Server.IsoServerOptions());

        var response = await scheme.Server.SendAsync("12345", NetworkManagement.Echo(wire, "000321"), TimeSpan.FromSeconds(5));

        Assert.Equal(810, response.Mti.Value);
        Assert.Equal("00", response.GetString(39));
        Assert.Equal("000321", response.GetString(11));
        Assert.Equal("301", response.GetString(70));
    }

    [Fact]
    public async Task Signs_on_when_connecting_and_off_before_closing()
    {
        await using var scheme = new Scheme();
        await using var client = await Links.ConnectAsync(scheme.Address);
        await Eventually.TrueAsync(() => scheme.Events.Any(e => e.Event == "signed-on"), TimeSpan.FromSeconds(5), "signed on at the server");
        var session = Assert.Single(scheme.Server.Sessions);
        Assert.Equal("12345", session.ClientId);
        Assert.True(session.SignedOn);

        await client.DrainAsync();

        await Eventually.TrueAsync(() => scheme.Events.Any(e => e.Event == "closed"), TimeSpan.FromSeconds(5), "closed at the server");
        Assert.Equal(["opened", "signed-on", "signed-off", "closed"], scheme.Events.Select(e => e.Event));
        Assert.Equal(ConnectionState.Closed, client.State);
    }

    [Fact]
    public async Task Requests_wait_for_sign_on_and_are_sent_after_it()
    {
        await using var scheme = new Scheme();
        await using var client = new Client.IsoClient(Links.Options(scheme.Address));

        // Accepted before the link exists: queued, then written once signed on.
        var early = client.SendAsync(Scheme.Authorization("000009"));
        client.Start();

        Assert.Equal("00", (await early).GetString(39));
        var first = scheme.Events.Select(e => e.Event).ToList();
        Assert.Equal("signed-on", first[1]);
    }
}
