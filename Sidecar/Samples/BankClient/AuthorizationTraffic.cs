using System.Collections.Concurrent;
using OrleansControl.Codec;
using OrleansControl.Sidecar;
using OrleansControl.Sidecar.Client;

namespace OrleansControl.Samples.BankClient;

/// <summary>Outcome counts of the 0200s sent (one request ends in exactly one of them).</summary>
public sealed class Outcomes
{
    private readonly ConcurrentDictionary<string, long> _approvedBy = new(StringComparer.Ordinal);
    private long _approved, _declined, _unavailable, _timeouts, _lost, _refused;

    public long Approved => Interlocked.Read(ref _approved);

    public long Declined => Interlocked.Read(ref _declined);

    /// <summary>Answered 91 (issuer or switch inoperative): what the sidecar's relay answers at once when its link cannot
    /// deliver (timeout, connection lost, draining), so the request may or may not have reached a server.</summary>
    public long Unavailable => Interlocked.Read(ref _unavailable);

    public long Timeouts => Interlocked.Read(ref _timeouts);

    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Not sent: draining, stopped, over the in-flight cap, duplicate.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public long Total => Approved + Declined + Unavailable + Timeouts + Lost + Refused;

    /// <summary>Approvals per answering server (field 44 of the response; "?" when it names none).</summary>
    public IReadOnlyDictionary<string, long> ApprovedBy => _approvedBy;

    public void Record(IsoMessage response)
    {
        var code = response.GetString(39);
        if (code == "00")
        {
            Interlocked.Increment(ref _approved);
            var server = response.GetString(44)?.Trim();
            _approvedBy.AddOrUpdate(string.IsNullOrEmpty(server) ? "?" : server, 1, (_, n) => n + 1);
        }
        else if (code == "91")
        {
            Interlocked.Increment(ref _unavailable);
        }
        else
        {
            Interlocked.Increment(ref _declined);
        }
    }

    public void Record(SidecarException error)
    {
        switch (error.Error)
        {
            case SidecarError.Timeout:
                Interlocked.Increment(ref _timeouts);
                break;
            case SidecarError.ConnectionLost:
                Interlocked.Increment(ref _lost);
                break;
            default:
                Interlocked.Increment(ref _refused);
                break;
        }
    }

    public override string ToString() =>
        $"approved={Approved} declined={Declined} unavailable={Unavailable} timeouts={Timeouts} lost={Lost} refused={Refused}";

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
