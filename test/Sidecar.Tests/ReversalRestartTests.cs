using System.Text.Json;
using OrleansControl.Sidecar.Relay;
using OrleansControl.Sidecar.Tests.Support;
using Xunit.Abstractions;

namespace OrleansControl.Sidecar.Tests;

public sealed class ReversalRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_sidecar_killed_with_a_reversal_queued_sends_it_after_its_restart_and_it_is_acknowledged()
    {
        using var journal = new TempJournal();
        await using var scheme = new Scheme { Answer = false, AckReversals = false };
        var settings = new Dictionary<string, string>
        {
            ["Sidecar:Link:RequestTimeout"] = "00:00:00.400",
            ["Sidecar:Link:ReconnectInitialDelay"] = "00:00:00.050",
            ["Sidecar:Link:Reversals:Enabled"] = "true",
            ["Sidecar:Link:Reversals:JournalPath"] = journal.Path,
            ["Sidecar:Link:Reversals:ResponseTimeout"] = "00:00:00.300",
            ["Sidecar:Link:Reversals:RetryInitialDelay"] = "00:00:00.100",
            ["Sidecar:Link:Reversals:RetryMaxDelay"] = "00:00:00.200",
        };
        using var sidecar = await SidecarProcess.StartAsync(scheme.Address, settings);
        await using (var app = await Links.ConnectAsync(sidecar.RelayAddress))
        {
            var answer = await app.SendAsync(Reversing.Original("000444"));
            Assert.Equal(("68", RelayAnswers.ReversingDetail), (answer.GetString(39), answer.GetString(44)));
        }

        await Eventually.TrueAsync(() => scheme.Received.Count(m => m.Mti.Class == 4) >= 2, TimeSpan.FromSeconds(10), "the reversal sent, unanswered");
        sidecar.Kill();
        var stan = scheme.Received.First(m => m.Mti.Class == 4).GetString(11);
        var before = scheme.Received.Count;
        scheme.AckReversals = true;

        using var restarted = await SidecarProcess.StartAsync(scheme.Address, settings);
        JsonElement reversals = default;
        await Eventually.TrueAsync(async () => (await restarted.StatusAsync())?.GetProperty("reversals") is { } r
            && (reversals = r).GetProperty("acknowledged").GetInt32() == 1, TimeSpan.FromSeconds(15), "acknowledged after the restart");

        output.WriteLine(reversals.ToString());
        Assert.Equal(0, reversals.GetProperty("pending").GetInt32());
        var resent = scheme.Received.Skip(before).Where(m => m.Mti.Class == 4).ToList();
        Assert.NotEmpty(resent);
        Assert.All(resent, m => Assert.Equal((421, stan), ((int)m.Mti.Value, m.GetString(11))));
        Assert.Equal(0, journal.Length);
    }
}
