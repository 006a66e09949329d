using System.Collections.Concurrent;
using OrleansControl.Codec;
using OrleansControl.Sidecar;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Relay;

namespace OrleansControl.Samples.BankClient;

/// <summary>
/// Outcome counts of the 0200s sent; one request ends in exactly one of approved, declined, not sent (definitely not
/// processed) and unknown fate (sent, no answer: the scheme may have approved it). Unknown-fate ones the sidecar is
/// reversing are counted again under <see cref="Reversed"/>. The same whether the answer came from the library
/// (<see cref="SidecarException.Outcome"/>) or from the sidecar's relay (its own answers, see <see cref="RelayAnswers"/>).
/// </summary>
public sealed class Outcomes
{
    private static readonly RelayResponseCodes Defaults = new();
    private readonly ConcurrentDictionary<string, long> _approvedBy = new(StringComparer.Ordinal);
    private long _approved, _declined, _notSent, _unknownFate, _reversed;

    public long Approved => Interlocked.Read(ref _approved);

    public long Declined => Interlocked.Read(ref _declined);

    /// <summary>Not sent: no link, draining, stopped, over the in-flight cap, duplicate, unpackable.</summary>
    public long NotSent => Interlocked.Read(ref _notSent);

    /// <summary>Sent, no answer (timeout, link lost after the write). Never a decline.</summary>
    public long UnknownFate => Interlocked.Read(ref _unknownFate);

    /// <summary>Of <see cref="UnknownFate"/>, those the sidecar queued a reversal for.</summary>
    public long Reversed => Interlocked.Read(ref _reversed);

    public long Total => Approved + Declined + NotSent + UnknownFate;

    /// <summary>Approvals per answering server (field 44 of the response; "?" when it names none).</summary>
    public IReadOnlyDictionary<string, long> ApprovedBy => _approvedBy;

    public void Record(IsoMessage response, RelayResponseCodes? relayCodes = null)
    {
        var codes = relayCodes ?? Defaults;
        var code = response.GetString(39);
        switch (response.GetString(44))
        {
            // The relay's own answers name themselves in field 44: a scheme's 91 is its decline, the relay's means not sent.
            case RelayAnswers.ReversingDetail when code == codes.FateUnknown:
                Interlocked.Increment(ref _unknownFate);
                Interlocked.Increment(ref _reversed);
                break;
            case RelayAnswers.UnreversedDetail when code == codes.FateUnknown:
                Interlocked.Increment(ref _unknownFate);
                break;
            case RelayAnswers.NotSentDetail or RelayAnswers.DuplicateDetail or RelayAnswers.FormatErrorDetail:
                Interlocked.Increment(ref _notSent);
                break;
            default:
                if (code != "00")
                {
                    Interlocked.Increment(ref _declined);
                    break;
                }
                Interlocked.Increment(ref _approved);
                var server = response.GetString(44)?.Trim();
                _approvedBy.AddOrUpdate(string.IsNullOrEmpty(server) ? "?" : server, 1, (_, n) => n + 1);
                break;
        }
    }

    public void Record(SidecarException error)
    {
        if (error.Outcome == RequestOutcome.FateUnknown)
        {
            Interlocked.Increment(ref _unknownFate);
            if (error.Reversal is not null)
            {
                Interlocked.Increment(ref _reversed);
            }
        }
        else
        {
            Interlocked.Increment(ref _notSent);
        }
    }

    public override string ToString() =>
        $"approved={Approved} declined={Declined} not_sent={NotSent} unknown_fate={UnknownFate} (reversed={Reversed})";

    /// <summary>approved-by=srv-a:120,srv-b:4 (sorted by server id), for tools that follow which server answers.</summary>
    public string DescribeApprovedBy() =>
        "approved-by=" + string.Join(',', _approvedBy.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value}"));
}

/// <summary>Builds the bank's 0200 financial requests: a test PAN, an amount, a fresh STAN per request.</summary>
public sealed class AuthorizationTraffic(IsoClient link, string terminalId)
{
    public Outcomes Outcomes { get; } = new();

    public IsoMessage Next(MessageSpec spec, long amount)
    {
        var now = DateTime.UtcNow;
        return spec.CreateMessage(200)
            .Set(2, "4761739001010119")
            .Set(3, "000000")
            .Set(4, amount)
            .Set(7, now.ToString("MMddHHmmss", System.Globalization.CultureInfo.InvariantCulture))
            .Set(11, link.NextStan())
            .Set(41, terminalId)
            .Set(49, "978");
    }

    /// <summary>Sends one 0200 and records how it ended; never throws for a link outcome.</summary>
    public async Task SendOneAsync(MessageSpec spec, long amount, CancellationToken ct = default)
    {
        try
        {
            Outcomes.Record(await link.SendAsync(Next(spec, amount), ct: ct).ConfigureAwait(false));
        }
        catch (SidecarException ex)
        {
            Outcomes.Record(ex);
        }
    }
}
