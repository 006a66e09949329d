using System.Collections.Concurrent;
using System.Text;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Reversals;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

public sealed class ReversalTests
{
    private static IsoMessage[] ReversalsReceived(Scheme scheme) => [.. scheme.Received.Where(m => m.Mti.Class == 4)];

    [Fact]
    public async Task A_timed_out_0200_is_reversed_with_a_0420_then_0421_repeats_until_a_0430_and_the_app_is_told_fate_unknown()
    {
        using var journal = new TempJournal();
        using var meter = new SidecarMeter("rev-timeout");
        await using var scheme = new Scheme { Answer = false, AckReversals = false };
        await using var client = await Links.ConnectAsync(scheme.Address, Reversing.On(journal.Path, name: "rev-timeout"));

        var error = await Assert.ThrowsAsync<SidecarException>(() => client.SendAsync(Reversing.Original("000321"), TimeSpan.FromMilliseconds(300)));

        // Not a decline: the scheme may have approved it, and the reversal was on disk before we were told.
        Assert.Equal((SidecarError.Timeout, RequestOutcome.FateUnknown), (error.Error, error.Outcome));
        Assert.NotNull(error.Reversal);
        Assert.Equal(420, error.Reversal.Mti);
        Assert.True(journal.Length > 0);
        await Eventually.TrueAsync(() => ReversalsReceived(scheme).Count(m => m.Mti.Value == 421) >= 2, TimeSpan.FromSeconds(10), "0420 then repeated 0421s");

        var sent = ReversalsReceived(scheme);
        var first = sent[0];
        Assert.Equal(420, first.Mti.Value);
        Assert.All(sent.Skip(1), m => Assert.Equal(421, m.Mti.Value));
        // The STAN and RRN rules: its own STAN (the original's is in field 90), the RRN unchanged, repeats identical.
        Assert.Equal(error.Reversal.Stan, first.GetString(11));
        Assert.NotEqual("000321", first.GetString(11));
        Assert.Equal("0200" + "000321" + "1201123456" + "00000123456" + "00000000000", first.GetString(90));
        Assert.Equal(("RRN000000042", "4111111111111111", "000000001000", "TERM0001"), (first.GetString(37), first.GetString(2), first.GetString(4), first.GetString(41)?.Trim()));
        Assert.False(first.Has(35) || first.Has(52), "a reversal never carries track data or a PIN block");
        Assert.All(sent, m => Assert.Equal((first.GetString(11), first.GetString(90), first.GetString(7)), (m.GetString(11), m.GetString(90), m.GetString(7))));

        // Only its owner may read the journal (its contents: the restart test, once no link holds it).
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(journal.Path));
        }

        scheme.AckReversals = true;
        await Eventually.TrueAsync(() => client.Reversals() is { Acknowledged: 1, Pending: 0 }, TimeSpan.FromSeconds(5), "acknowledged");
        var afterAck = ReversalsReceived(scheme).Length;
        await Task.Delay(800); // several retry delays: nothing more goes out once a 0430 came
        Assert.Equal(afterAck, ReversalsReceived(scheme).Length);
        Assert.Equal(0, journal.Length); // emptied: nothing is live
        Assert.Equal(1, meter["orleanscontrol.sidecar.requests|outcome=fate_unknown|reversed=True"]);
        Assert.Equal((1, 1), (meter["orleanscontrol.sidecar.reversals.queued"], meter["orleanscontrol.sidecar.reversals.acknowledged"]));
        Assert.Equal(afterAck, meter["orleanscontrol.sidecar.reversals.sent"]);
        Assert.Equal(1, meter["orleanscontrol.sidecar.reversals.sent|mti=0420"]);
    }

    [Fact]
    public async Task Reversals_queued_when_the_client_is_disposed_are_sent_and_acknowledged_by_the_next_one_on_the_same_journal()
    {
        using var journal = new TempJournal();
        await using var scheme = new Scheme { Answer = false, AckReversals = false };
        var first = await Links.ConnectAsync(scheme.Address, Reversing.On(journal.Path));
        var errors = await Task.WhenAll(Enumerable.Range(1, 3).Select(async i =>
            await Assert.ThrowsAsync<SidecarException>(() => first.SendAsync(Reversing.Original($"00070{i}"), TimeSpan.FromMilliseconds(300)))));
        Assert.All(errors, e => Assert.NotNull(e.Reversal));
        await Eventually.TrueAsync(() => ReversalsReceived(scheme).Select(m => m.GetString(11)).Distinct().Count() == 3, TimeSpan.FromSeconds(10), "each reversal sent, unanswered");
        await first.DisposeAsync();
        var before = ReversalsReceived(scheme).Length;

        // What is on disk: the reversals as they will be sent (PAN included, as the 0420 must), never track data or a PIN block.
        var stored = Encoding.Latin1.GetString(journal.Bytes());
        Assert.Contains("4111111111111111", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("=2912101", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789ABCDEF", stored, StringComparison.Ordinal);

        scheme.AckReversals = true;
        await using var second = await Links.ConnectAsync(scheme.Address, Reversing.On(journal.Path));

        await Eventually.TrueAsync(() => second.Reversals() is { Acknowledged: 3, Pending: 0 }, TimeSpan.FromSeconds(10), "all three acknowledged after the restart");
        var resent = ReversalsReceived(scheme).Skip(before).ToList();
        // Each had been transmitted before the restart, so each goes again as a repeat, with its own STAN.
        Assert.All(resent, m => Assert.Equal(421, m.Mti.Value));
        Assert.Equal(errors.Select(e => e.Reversal!.Stan).Order(), resent.Select(m => m.GetString(11)!).Distinct().Order());
        Assert.Equal(0, journal.Length);
    }

    [Fact]
    public async Task A_late_0210_after_the_reversal_is_counted_and_not_delivered_as_an_answer()
    {
        using var journal = new TempJournal();
        using var meter = new SidecarMeter("rev-late");
        var unmatched = new ConcurrentQueue<IsoMessage>();
        await using var scheme = new Scheme { Delay = TimeSpan.FromMilliseconds(800) };
        await using var client = await Links.ConnectAsync(scheme.Address, Reversing.On(journal.Path, name: "rev-late"),
            new DelegateInboundHandler(onUnmatched: (_, m) => unmatched.Enqueue(m)));

        var error = await Assert.ThrowsAsync<SidecarException>(() => client.SendAsync(Reversing.Original("000555"), TimeSpan.FromMilliseconds(200)));
        Assert.Equal(RequestOutcome.FateUnknown, error.Outcome);
        await Eventually.TrueAsync(() => client.Reversals() is { Acknowledged: 1, LateResponses: 1 }, TimeSpan.FromSeconds(5), "reversed, then the late 0210 counted");

        Assert.Contains(scheme.Received, m => m.Mti.Value == 420);
        Assert.Empty(unmatched);
        Assert.Equal(0, client.Health().UnmatchedResponses);
        Assert.Equal(1, meter["orleanscontrol.sidecar.reversals.late_responses"]);
    }

    [Fact]
    public async Task A_reversal_never_acknowledged_is_given_up_after_its_attempts_with_an_event()
    {
        using var journal = new TempJournal();
        await using var scheme = new Scheme { Answer = false, AckReversals = false };
        await using var client = await Links.ConnectAsync(scheme.Address, Reversing.On(journal.Path, r => r.MaxAttempts = 3));
        var gaveUp = new TaskCompletionSource<ReversalGivenUp>();
        client.ReversalGaveUp += g => gaveUp.TrySetResult(g);

        var error = await Assert.ThrowsAsync<SidecarException>(() => client.SendAsync(Reversing.Original("000808"), TimeSpan.FromMilliseconds(200)));
        var given = await gaveUp.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((error.Reversal!.Id, 3, error.Reversal.Stan), (given.Id, given.Attempts, given.Stan));
        Assert.StartsWith("0200000808", given.OriginalData, StringComparison.Ordinal);
        Assert.Equal([420, 421, 421], ReversalsReceived(scheme).Select(m => (int)m.Mti.Value));
        Assert.Equal((0, 1), (client.Reversals()!.Pending, client.Reversals()!.GivenUp));
        Assert.Equal(0, journal.Length);
    }

    [Fact]
    public async Task A_reversal_whose_session_closed_unanswered_is_repeated_on_the_next_session_without_holding_back_the_others()
    {
        // What the failover benchmark found in a black hole: a 0420 written on the session that was then moved away from
        // waited out its whole response timeout for a 0430 that would never come, and every reversal queued behind it
        // waited too (one at a time, in order), while the backup's session was up.
        using var journal = new TempJournal();
        await using var dark = new Scheme("dark") { Answer = false, AckReversals = false };
        await using var backup = new Scheme("backup") { Answer = false };
        // A response timeout far beyond the test's bound: only the session's close can end the first transmission's wait.
        await using var client = await Links.ConnectAsync(dark.Address, Reversing.On(journal.Path, r => r.ResponseTimeout = TimeSpan.FromMinutes(2)));

        var first = await Assert.ThrowsAsync<SidecarException>(() => client.SendAsync(Reversing.Original("000401"), TimeSpan.FromMilliseconds(200)));
        await Eventually.TrueAsync(() => ReversalsReceived(dark).Length == 1, TimeSpan.FromSeconds(10), "the 0420 written on the dark server's session");
        // A request still in flight keeps the old session open after the move (it keeps its own timeout), as the
        // requests written into a black hole do: the 0420 must not wait for that session to close either.
        var straggler = client.SendAsync(Reversing.Original("000400"), TimeSpan.FromMinutes(1));
        await client.ConnectToAsync(backup.Address); // make-before-break: new requests and reversals go to the backup
        var second = await Assert.ThrowsAsync<SidecarException>(() => client.SendAsync(Reversing.Original("000402"), TimeSpan.FromMilliseconds(200)));

        await Eventually.TrueAsync(() => client.Reversals() is { Acknowledged: 2, Pending: 0 }, TimeSpan.FromSeconds(20), "both acknowledged on the backup");
        var atBackup = ReversalsReceived(backup);
        Assert.Contains(atBackup, m => m.Mti.Value == 421 && m.GetString(11) == first.Reversal!.Stan);
        Assert.Contains(atBackup, m => m.Mti.Value == 420 && m.GetString(11) == second.Reversal!.Stan);
        Assert.Single(ReversalsReceived(dark));
        Assert.False(straggler.IsCompleted, "the old session was still open when both were acknowledged");
    }

    [Fact]
    public async Task A_request_that_never_got_a_link_is_not_sent_and_not_reversed()
    {
        using var journal = new TempJournal();
        var scheme = new Scheme();
        await using var client = await Links.ConnectAsync(scheme.Address, Reversing.On(journal.Path, r => r.Mti = new() { ["0200"] = "0420", ["0100"] = "0400" }));
        await scheme.DisposeAsync();
        await Eventually.TrueAsync(() => client.State != Health.ConnectionState.SignedOn, TimeSpan.FromSeconds(5), "link down");

        var error = await Assert.ThrowsAsync<SidecarException>(() => client.SendAsync(Reversing.Original("000901"), TimeSpan.FromMilliseconds(200)));

        Assert.Equal((SidecarError.NoLink, RequestOutcome.NotSent), (error.Error, error.Outcome));
        Assert.Null(error.Reversal);
        Assert.Equal(0, client.Reversals()!.Queued);
    }

    [Fact]
    public void The_1993_dialect_carries_the_original_data_elements_in_field_56()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1993-ascii");
        var options = new ReversalOptions { Enabled = true, Mti = new() { ["1200"] = "1420" }, SetFields = new() { ["25"] = "4021" } };
        Assert.Empty(options.Validate(spec, "bank"));
        var original = spec.CreateMessage(1200).Set(2, "4111111111111111").Set(4, 500L).Set(11, "000042").Set(12, "261201093000").Set(32, "123456");

        var reversal = new ReversalBuilder(options, spec).Build(original, "000043", DateTimeOffset.UtcNow);

        Assert.Equal(1420, reversal.Mti.Value);
        Assert.Equal("1200" + "000042" + "261201093000" + "06123456", reversal.GetString(56));
        Assert.Equal(("000043", "4021"), (reversal.GetString(11), reversal.GetString(25)));
        Assert.Equal(1421, ReversalBuilder.Repeat(reversal).Mti.Value);
        spec.Pack(reversal); // it packs
    }

    [Theory]
    [InlineData("0800", "0820", "never network management")]
    [InlineData("0200", "0210", "reversal request or advice")]
    [InlineData("0200", "1420", "same version")]
    public void Reversal_options_refuse_what_is_not_a_reversal(string original, string reversal, string expected)
    {
        var options = new ReversalOptions { Enabled = true, Mti = new() { [original] = reversal } };
        Assert.Contains(options.Validate(MessageSpec.BuiltIn(IsoWire.DefaultSpec), "bank"), e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Reversal_options_refuse_copying_track_data_pin_block_or_icc_data_and_a_misfit_original_data_layout()
    {
        var spec = MessageSpec.BuiltIn(IsoWire.DefaultSpec);
        var errors = new ReversalOptions { Enabled = true, CopyFields = [2, 35, 52, 55], OriginalDataElements = ["mti", "11"] }.Validate(spec, "bank").ToList();

        Assert.Equal(3, errors.Count(e => e.Contains("never copied", StringComparison.Ordinal)));
        Assert.Contains(errors, e => e.Contains("field 90 is fixed 42", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_links_cannot_share_one_journal()
    {
        using var journal = new TempJournal();
        await using var scheme = new Scheme();
        await using var first = await Links.ConnectAsync(scheme.Address, Reversing.On(journal.Path));

        Assert.Throws<IOException>(() => new Client.IsoClient(Links.Options(scheme.Address, Reversing.On(journal.Path))));
    }

    [Fact]
    public void A_torn_last_record_is_cut_off_on_replay_and_the_rest_kept()
    {
        var key = new Matching.MatchKey(200, "000001\u001fTERM0001");
        var whole = JournalRecord.Queued(1, DateTimeOffset.UtcNow, key, [1, 2, 3]).Encode()
            .Concat(JournalRecord.Attempted(1, 1).Encode()).Concat(JournalRecord.Queued(2, DateTimeOffset.UtcNow, key, [4]).Encode()).ToArray();
        var torn = whole[..^3];

        var contents = JournalRecord.Replay(torn, out var good);

        Assert.Equal(whole.Length - JournalRecord.Queued(2, DateTimeOffset.UtcNow, key, [4]).Encode().Length, good);
        var only = Assert.Single(contents.Pending);
        Assert.Equal((1L, 1, key), (only.Id, only.Attempts, only.OriginalKey));
        Assert.Equal([1, 2, 3], only.Packed);
        Assert.Equal(2, contents.NextId);
    }
}
