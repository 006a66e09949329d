using System.Diagnostics;
using OrleansControl.Codec;
using OrleansControl.Samples.BankClient;
using OrleansControl.Sidecar;
using OrleansControl.Sidecar.Client;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>
/// How one 0200 ended, as the library said (<see cref="IsoClient.SendAsync"/>'s response, or
/// <see cref="SidecarException.Outcome"/>): nothing here is inferred from timings or error names.
/// </summary>
internal enum TxnOutcome
{
    Pending,
    Approved,
    /// <summary>A response with field 39 other than 00.</summary>
    Declined,
    /// <summary><see cref="RequestOutcome.NotSent"/>: nothing reached the wire (no link, draining, stopped, in-flight cap, duplicate key).</summary>
    NotSent,
    /// <summary><see cref="RequestOutcome.FateUnknown"/>: written, no answer (timeout, or the session went down after the write).</summary>
    FateUnknown,
    /// <summary>Anything else (a bug in the harness or the client).</summary>
    Other,
}

/// <summary>
/// One transaction: when it was sent and ended (Stopwatch timestamps), how, which server answered (field 44), and
/// for an unknown fate the library's error and the reversal it queued (<see cref="SidecarException.Reversal"/>).
/// </summary>
internal sealed class Txn(long sentAt)
{
    private int _outcome; // written last: whoever sees it set sees the fields before it

    public long SentAt { get; } = sentAt;

    public long EndedAt { get; private set; }

    public string? Code { get; private set; }

    public string? Server { get; private set; }

    public SidecarError? Error { get; private set; }

    /// <summary>The journal id of the reversal the link queued before telling us the fate is unknown; null: none queued.</summary>
    public long? ReversalId { get; private set; }

    public TxnOutcome Outcome => (TxnOutcome)Volatile.Read(ref _outcome);

    public bool Ended => Outcome != TxnOutcome.Pending;

    public void End(TxnOutcome outcome, string? code = null, string? server = null, SidecarError? error = null, long? reversalId = null)
    {
        Code = code;
        Server = server;
        Error = error;
        ReversalId = reversalId;
        EndedAt = Stopwatch.GetTimestamp();
        Volatile.Write(ref _outcome, (int)outcome);
    }
}

/// <summary>
/// 0200 authorizations through the sidecar's <see cref="IsoClient"/> at a steady rate, open loop (a slow answer does
/// not slow the sender, as a bank's terminals do not wait for each other), each outcome recorded.
/// </summary>
internal sealed class AuthorizationLoad(IsoClient link, MessageSpec spec, int perSecond)
{
    private readonly AuthorizationTraffic _traffic = new(link, "TERM0001");
    private readonly List<Txn> _all = new(capacity: 1 << 16);
    private readonly Lock _lock = new();

    public int Count
    {
        get { lock (_lock) return _all.Count; }
    }

    /// <summary>Transactions from index <paramref name="from"/> (in send order) up to now.</summary>
    public Txn[] Since(int from)
    {
        lock (_lock) return _all.Count <= from ? [] : _all.GetRange(from, _all.Count - from).ToArray();
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var period = Stopwatch.Frequency / perSecond;
        var next = Stopwatch.GetTimestamp();
        while (!ct.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            // Send everything that is due: a late wake-up (GC, a busy core) sends a small burst, the rate holds.
            while (next <= now)
            {
                SendOne();
                next += period;
            }
            var waitMs = (next - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, waitMs)), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Waits until every transaction sent so far has ended (each does within its timeout).</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Since(0).Any(t => !t.Ended) && Stopwatch.GetTimestamp() < until)
            await Task.Delay(20);
    }

    private void SendOne()
    {
        var txn = new Txn(Stopwatch.GetTimestamp());
        lock (_lock) _all.Add(txn);
        try
        {
            _ = RecordAsync(txn, link.SendAsync(_traffic.Next(spec, 1000)));
        }
        catch (SidecarException e)
        {
            txn.End(e.Outcome == RequestOutcome.FateUnknown ? TxnOutcome.FateUnknown : TxnOutcome.NotSent, error: e.Error, reversalId: e.Reversal?.Id);
        }
    }

    private static async Task RecordAsync(Txn txn, Task<IsoMessage> sent)
    {
        try
        {
            var response = await sent;
            var code = response.GetString(39);
            txn.End(code == "00" ? TxnOutcome.Approved : TxnOutcome.Declined, code, response.GetString(44));
        }
        catch (SidecarException e)
        {
            txn.End(e.Outcome == RequestOutcome.FateUnknown ? TxnOutcome.FateUnknown : TxnOutcome.NotSent, error: e.Error, reversalId: e.Reversal?.Id);
        }
        catch (Exception)
        {
            txn.End(TxnOutcome.Other);
        }
    }
}
