using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Relay;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

public sealed class RelayTests
{
    public static TheoryData<SidecarError, bool, string, string> Table => new()
    {
        { SidecarError.Timeout, true, "68", RelayAnswers.ReversingDetail },
        { SidecarError.ConnectionLost, true, "68", RelayAnswers.ReversingDetail },
        { SidecarError.Timeout, false, "68", RelayAnswers.UnreversedDetail },
        { SidecarError.ConnectionLost, false, "68", RelayAnswers.UnreversedDetail },
        { SidecarError.NoLink, false, "91", RelayAnswers.NotSentDetail },
        { SidecarError.NotAccepting, false, "91", RelayAnswers.NotSentDetail },
        { SidecarError.SendingStopped, false, "91", RelayAnswers.NotSentDetail },
        { SidecarError.InFlightLimit, false, "91", RelayAnswers.NotSentDetail },
        { SidecarError.SignOnRefused, false, "91", RelayAnswers.NotSentDetail },
        { SidecarError.Superseded, false, "91", RelayAnswers.NotSentDetail },
        // A listener that cannot start never carries a request; were one to surface on a request, it was not sent.
        { SidecarError.ListenFailed, false, "91", RelayAnswers.NotSentDetail },
        { SidecarError.DuplicateKey, false, "94", RelayAnswers.DuplicateDetail },
        { SidecarError.InvalidMessage, false, "30", RelayAnswers.FormatErrorDetail },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Each_outcome_maps_to_its_documented_code(SidecarError error, bool reversed, string code, string detail)
    {
        var failure = new SidecarException(error, "test", reversal: reversed ? new QueuedReversal(1, 420, "000001") : null);

        Assert.Equal((code, detail), RelayAnswers.For(failure, new RelayResponseCodes()));
    }

    [Fact]
    public void The_table_covers_every_error_and_never_answers_not_sent_with_the_fate_unknown_code()
    {
        Assert.Equal(Enum.GetValues<SidecarError>().Order(), Table.Select(row => (SidecarError)row[0]).Distinct().Order());
        Assert.All(Table, row => Assert.Equal(
            SidecarException.OutcomeOf((SidecarError)row[0]) == RequestOutcome.FateUnknown, (string)row[2] == "68"));
        Assert.Contains(new RelayResponseCodes { FateUnknown = "91" }.Validate(), e => e.Contains("distinct", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_real_sockets_each_outcome_comes_back_with_its_code()
    {
        using var journal = new TempJournal();
        var scheme = new Scheme("A");
        await using var host = await InProcessSidecar.StartAsync(new()
        {
            ["Sidecar:Link:Server"] = scheme.Address,
            ["Sidecar:Link:RequestTimeout"] = "00:00:00.400",
            ["Sidecar:Link:Reversals:Enabled"] = "true",
            ["Sidecar:Link:Reversals:JournalPath"] = journal.Path,
            ["Sidecar:Relay:Enabled"] = "true",
            ["Sidecar:Relay:Listen"] = "127.0.0.1:0",
        });
        var link = host.Services.GetRequiredService<IsoClient>();
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "link signed on");
        var relay = $"127.0.0.1:{host.Services.GetRequiredService<SidecarRelay>().Endpoint!.Port}";
        await using var app = await Links.ConnectAsync(relay);
        await using var otherApp = await Links.ConnectAsync(relay);
        async Task<(string?, string?)> Send(IsoClient through, string stan)
        {
            var answer = await through.SendAsync(Scheme.Authorization(stan));
            Assert.Equal(stan, answer.GetString(11));
            return (answer.GetString(39), answer.GetString(44));
        }

        Assert.Equal(("00", "A"), await Send(app, "000001"));

        scheme.Answer = false; // sent, never answered
        Assert.Equal(("68", RelayAnswers.ReversingDetail), await Send(app, "000002"));
        Assert.Equal(1, link.Reversals()!.Queued);

        (scheme.Answer, scheme.Hold) = (true, true);
        var held = Send(app, "000003");
        await scheme.WaitHeldAsync(1);
        Assert.Equal(("94", RelayAnswers.DuplicateDetail), await Send(otherApp, "000003")); // same STAN and terminal in flight
        scheme.Server.CloseSessions(reset: true); // lost after the write
        Assert.Equal(("68", RelayAnswers.ReversingDetail), await held);

        scheme.Hold = false;
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "link back");
        link.StopSending();
        Assert.Equal(("91", RelayAnswers.NotSentDetail), await Send(app, "000004"));
        link.ResumeSending();

        await scheme.DisposeAsync(); // no link: accepted, never written
        await Eventually.TrueAsync(() => link.State != ConnectionState.SignedOn, TimeSpan.FromSeconds(5), "link down");
        Assert.Equal(("91", RelayAnswers.NotSentDetail), await Send(app, "000005"));
        Assert.Equal(2, link.Reversals()!.Queued);
    }
}
