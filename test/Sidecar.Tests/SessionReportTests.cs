using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Server;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>
/// The server side's session report names each client by the address the client itself gives for its end of the link
/// (heartbeat local_address): the two must match, or the controller could not tell a dead client from a silent one.
/// </summary>
public sealed class SessionReportTests
{
    [Fact]
    public async Task The_report_lists_a_session_by_the_clients_own_end_of_the_link_and_drops_it_once_the_client_is_gone()
    {
        await using var scheme = new Scheme("srv-a");
        await using var reporter = new ServerSessionReporter(scheme.Server, new ServerSessionReportOptions { ServerId = "srv-a", ServerPool = "scheme" });
        var link = await Links.ConnectAsync(scheme.Address);
        var clientEnd = link.LocalAddress;
        Assert.NotNull(clientEnd);

        var report = await EventuallyAsync(reporter.Report, r => r.Sessions.Any(s => s.SignedOn));
        var held = Assert.Single(report.Sessions);
        Assert.Equal((clientEnd, true, "srv-a", "scheme"), (held.ClientAddress, held.SignedOn, report.ServerId, report.ServerPool));

        await link.DisposeAsync();
        report = await EventuallyAsync(reporter.Report, r => r.Sessions.Count == 0);
        Assert.Empty(report.Sessions);
    }

    [Theory]
    [InlineData("[::ffff:127.0.0.1]:41000", "127.0.0.1:41000")]
    [InlineData("127.0.0.1:41000", "127.0.0.1:41000")]
    [InlineData("[2001:db8::7]:5000", "[2001:db8::7]:5000")]
    [InlineData("scheme-1.example:5000", "scheme-1.example:5000")]
    public void Endpoints_are_normalised_so_both_ends_of_a_session_name_it_alike(string written, string normalised) =>
        Assert.Equal(normalised, IsoEndpoint.Normalize(written));

    private static async Task<T> EventuallyAsync<T>(Func<T> probe, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var value = probe();
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            value = probe();
        }

        return value;
    }
}
