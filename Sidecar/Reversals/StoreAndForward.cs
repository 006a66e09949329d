using Microsoft.Extensions.Logging;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Matching;
using OrleansControl.Sidecar.Telemetry;

namespace OrleansControl.Sidecar.Reversals;

/// <summary>
/// Timeout reversals, store-and-forward: each is journaled (<see cref="ReversalJournal"/>) before the application
/// hears of its original's fate, then sent in queue order on whichever link is up — 0420 first, 0421 repeats after,
/// each transmission journaled before it is written — until a 0430 arrives, on the schedule of
/// <see cref="ReversalOptions.RetryDelayAfter"/>, or given up after <see cref="ReversalOptions.MaxAttempts"/>
/// transmissions or <see cref="ReversalOptions.GiveUpAfter"/>. A transmission waits <see cref="ReversalOptions.ResponseTimeout"/>
/// for its 0430, or until the session it was written on closes or is replaced by a move. A 0430 acknowledges its reversal whenever it comes,
/// also after its own transmission's wait ended.
/// </summary>
internal sealed class StoreAndForward : IAsyncDisposable
{
    private readonly ReversalOptions _options;
    private readonly ReversalBuilder _builder;
    private readonly MessageSpec _spec;
    private readonly MatchKeyPolicy _keys;
    private readonly IReversalLink _link;
    private readonly string _name;
    private readonly ILogger _logger;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ReversalJournal _journal;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, PendingReversal> _pending = [];
    private readonly Dictionary<MatchKey, PendingReversal> _byKey = [];
    private readonly Signal _wake = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _nextId, _queued, _sent, _acknowledged, _givenUp, _late;

    public StoreAndForward(ReversalOptions options, MessageSpec spec, MatchKeyPolicy keys, IReversalLink link, string name,
        ILogger logger, SidecarMetrics metrics, TimeProvider? time = null)
    {
        (_options, _spec, _keys, _link, _name, _logger, _metrics, _time) = (options, spec, keys, link, name, logger, metrics, time ?? TimeProvider.System);
        _builder = new ReversalBuilder(options, spec);
        Originals = new ReversedOriginals(options.LateResponseWindow, _time);
        _journal = ReversalJournal.Open(options.EffectiveJournalPath(name), out var contents);
        try
        {
            _nextId = contents.NextId;
            foreach (var original in contents.Originals)
            {
                Originals.Ended(original);
            }

            foreach (var journaled in contents.Pending)
            {
                var entry = new PendingReversal(journaled.Id, journaled.QueuedAt, journaled.OriginalKey, spec.Unpack(journaled.Packed), keys) { Attempts = journaled.Attempts };
                _pending[entry.Id] = entry;
                _byKey[entry.Key] = entry;
                Originals.Live(entry.OriginalKey);
            }
        }
        catch
        {
            // A journal written with another spec: fail loudly, and let go of the file.
            _journal.Abandon();
            throw;
        }

        Log.JournalOpened(_logger, name, _journal.Path, _pending.Count);
    }

    /// <summary>Originals reversed (or being reversed): their late responses are recognised here.</summary>
    public ReversedOriginals Originals { get; }

    public event Action<ReversalGivenUp>? GaveUp;

    public bool Covers(int mti) => _builder.Covers(mti);

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    public ReversalStatus Status()
    {
        lock (_lock)
        {
            return new ReversalStatus(_pending.Count, _queued, _sent, _acknowledged, _givenUp, Interlocked.Read(ref _late), _journal.Path, _journal.Length);
        }
    }

    /// <summary>Builds the reversal of <paramref name="original"/> and journals it; returns once it is on disk.</summary>
    public async Task<QueuedReversal> QueueAsync(IsoMessage original, MatchKey originalKey, string freshStan)
    {
        var now = _time.GetUtcNow();
        var reversal = _builder.Build(original, freshStan, now);
        var packed = _spec.Pack(reversal);
        var id = Interlocked.Increment(ref _nextId) - 1;
        await _journal.AppendAsync(JournalRecord.Queued(id, now, originalKey, packed)).ConfigureAwait(false);
        var entry = new PendingReversal(id, now, originalKey, reversal, _keys);
        lock (_lock)
        {
            _pending[id] = entry;
            _byKey[entry.Key] = entry;
            _queued++;
        }

        Originals.Live(originalKey);
        _metrics.ReversalQueued();
        Log.ReversalQueued(_logger, _name, id, reversal.Mti.Value, reversal.GetString(11), OriginalDataOf(reversal),
            reversal.GetString(41), reversal.GetMasked(2), reversal.GetString(4));
        _wake.Set();
        return new QueuedReversal(id, reversal.Mti.Value, reversal.GetString(11) ?? "");
    }

    /// <summary>A response to a reversal (0430 for a 0420 or 0421): true when it acknowledges one that is pending.</summary>
    public bool TryAcknowledge(MatchKey key, IsoMessage response)
    {
        PendingReversal? entry;
        lock (_lock)
        {
            _byKey.TryGetValue(key, out entry);
        }

        if (entry is null)
        {
            return false;
        }

        entry.Acknowledged.TrySetResult(response);
        _wake.Set();
        return true;
    }

    /// <summary>True (counted and logged, masked) when <paramref name="response"/> answers an original that was reversed.</summary>
    public bool IsLateResponse(MatchKey key, IsoMessage response)
    {
        if (!Originals.Contains(key))
        {
            return false;
        }

        Interlocked.Increment(ref _late);
        _metrics.LateResponse();
        Log.LateResponseToReversed(_logger, _name, response.Mti.Value, response.GetString(11), response.GetString(41), response.GetMasked(2), response.GetString(39));
        return true;
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var (entry, wait) = Next();
                if (entry is null)
                {
                    await _wake.WaitAsync(wait, ct).ConfigureAwait(false);
                }
                else if (entry.Acknowledged.Task.IsCompleted)
                {
                    await EndAsync(entry, ReversalEnd.Acknowledged, "acknowledged").ConfigureAwait(false);
                }
                else if (_time.GetUtcNow() - entry.QueuedAt >= _options.GiveUpAfter)
                {
                    await EndAsync(entry, ReversalEnd.GivenUp, $"not acknowledged within {_options.GiveUpAfter}").ConfigureAwait(false);
                }
                else
                {
                    await TransmitAsync(entry, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// An acknowledged reversal, else the one due earliest (never sent ones first, ties in queue order), else how long
    /// until one is due. Earliest-due, not first-in-queue: reversals being retried must not starve a fresh one.
    /// </summary>
    private (PendingReversal? Entry, TimeSpan Wait) Next()
    {
        var now = _time.GetUtcNow();
        PendingReversal? earliest = null;
        lock (_lock)
        {
            foreach (var entry in _pending.Values)
            {
                if (entry.Acknowledged.Task.IsCompleted)
                {
                    return (entry, TimeSpan.Zero);
                }

                if (earliest is null || entry.NextAt < earliest.NextAt)
                {
                    earliest = entry;
                }
            }
        }

        return earliest is null ? (null, Timeout.InfiniteTimeSpan)
            : earliest.NextAt <= now ? (earliest, TimeSpan.Zero)
            : (null, earliest.NextAt - now);
    }

    private async Task TransmitAsync(PendingReversal entry, CancellationToken ct)
    {
        // No link for longer than the reversal may live: back to the loop, which gives it up.
        using (var until = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            until.CancelAfter(TimeSpan.FromTicks(Math.Max(0, (_options.GiveUpAfter - (_time.GetUtcNow() - entry.QueuedAt)).Ticks)));
            try
            {
                await _link.WaitUntilUpAsync(until.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return;
            }
        }

        var attempt = entry.Attempts + 1;
        try
        {
            await _journal.AppendAsync(JournalRecord.Attempted(entry.Id, attempt)).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            // Unrecorded, a transmission could be followed after a crash by a second 0420 instead of a 0421: wait.
            entry.NextAt = _time.GetUtcNow() + _options.RetryInitialDelay;
            Log.JournalAttemptFailed(_logger, _name, entry.Id, attempt, (long)_options.RetryInitialDelay.TotalMilliseconds, ex.Message);
            return;
        }

        entry.Attempts = attempt;
        var message = attempt == 1 ? entry.Message : ReversalBuilder.Repeat(entry.Message);
        if (_link.TrySend(message) is { } sessionClosed)
        {
            Interlocked.Increment(ref _sent);
            _metrics.ReversalSent(message.Mti.Value);
            Log.ReversalSent(_logger, _name, entry.Id, message.Mti.Value, attempt);
            // The wait ends early if the session closes or the link moves off it: its 0430 can only come on that
            // session, and waiting out the response timeout for it (a 0420 written into a black hole just before the
            // failover) would hold back every reversal queued behind it. A 0430 that still comes acknowledges it; else
            // the next transmission (a 0421) follows the retry schedule, on whichever session is up.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            await Task.WhenAny(entry.Acknowledged.Task, sessionClosed, Task.Delay(_options.ResponseTimeout, _time, wait.Token)).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        }

        if (entry.Acknowledged.Task.IsCompleted)
        {
            await EndAsync(entry, ReversalEnd.Acknowledged, "acknowledged").ConfigureAwait(false);
        }
        else if (attempt >= _options.MaxAttempts)
        {
            await EndAsync(entry, ReversalEnd.GivenUp, $"{attempt} transmissions unacknowledged").ConfigureAwait(false);
        }
        else
        {
            entry.NextAt = _time.GetUtcNow() + _options.RetryDelayAfter(attempt);
        }
    }

    private async Task EndAsync(PendingReversal entry, ReversalEnd end, string reason)
    {
        try
        {
            await _journal.AppendAsync(JournalRecord.Ended(entry.Id, end)).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            Log.JournalEndFailed(_logger, _name, entry.Id, end, ex.Message);
        }

        lock (_lock)
        {
            _pending.Remove(entry.Id);
            _byKey.Remove(entry.Key);
            _ = end == ReversalEnd.Acknowledged ? _acknowledged++ : _givenUp++;
        }

        Originals.Ended(entry.OriginalKey);
        var m = entry.Message;
        if (end == ReversalEnd.Acknowledged)
        {
            var ack = entry.Acknowledged.Task.Result;
            _metrics.ReversalAcknowledged();
            Log.ReversalAcknowledged(_logger, _name, entry.Id, ack.Mti.Value, ack.GetString(39), entry.Attempts);
            return;
        }

        _metrics.ReversalGivenUp();
        Log.ReversalGivenUp(_logger, _name, entry.Id, m.Mti.Value, m.GetString(11), OriginalDataOf(m), m.GetString(41), m.GetMasked(2), m.GetString(4), entry.Attempts, reason);
        GaveUp?.Invoke(new ReversalGivenUp(entry.Id, m.Mti.Value, m.GetString(11), OriginalDataOf(m), entry.Attempts, entry.QueuedAt, reason));
    }

    private string? OriginalDataOf(IsoMessage reversal) => reversal.GetString(_builder.OriginalDataField(reversal.Mti.Value));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        await _journal.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
