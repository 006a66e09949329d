using OrleansControl.Contract.V1;

namespace OrleansControl.Sidecar.Agent;

/// <summary>
/// The command acks sent on the stream that the controller has not applied yet (no <c>Applied</c> for them), and the
/// last acknowledged sequence that follows: the highest one with every ack at or below it applied. Only that goes into
/// <c>SidecarRegister.last_acked_sequence</c>, so a re-attach gets every command whose ack was lost (with a stream, or
/// refused because a grain could not be reached) sent again, and answers it from <see cref="ExecutedCommands"/>.
/// Commands arrive and are acknowledged in sequence order; sequence 0 (an older controller) is not tracked.
/// </summary>
internal sealed class UnappliedAcks
{
    private static readonly TimeSpan FirstResend = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestResend = TimeSpan.FromSeconds(2);
    private readonly SortedDictionary<ulong, Waiting> _waiting = [];
    private readonly Lock _lock = new();
    private ulong _lastAcked;
    private ulong _highestApplied;

    /// <summary>Every ack up to and including this sequence was applied.</summary>
    public ulong LastAcked
    {
        get
        {
            lock (_lock)
            {
                return _lastAcked;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    public void Sent(CommandAck ack)
    {
        if (ack.Sequence == 0)
        {
            return;
        }

        lock (_lock)
        {
            _waiting[ack.Sequence] = new Waiting(ack, 0);
        }
    }

    /// <summary>The controller applied the ack of <paramref name="sequence"/>.</summary>
    public void Applied(ulong sequence)
    {
        lock (_lock)
        {
            _waiting.Remove(sequence);
            _highestApplied = Math.Max(_highestApplied, sequence);
            _lastAcked = Math.Max(_lastAcked, _waiting.Count == 0 ? _highestApplied : _waiting.Keys.First() - 1);
        }
    }

    /// <summary>
    /// A retryable refusal of the ack of <paramref name="sequence"/>: the ack to send again and after how long (250 ms,
    /// doubling to 2 s per ack), or null when it is no longer waiting.
    /// </summary>
    public (CommandAck Ack, TimeSpan After)? Resend(ulong sequence)
    {
        lock (_lock)
        {
            if (!_waiting.TryGetValue(sequence, out var waiting))
            {
                return null;
            }

            _waiting[sequence] = waiting with { Resends = waiting.Resends + 1 };
            var after = FirstResend * Math.Pow(2, Math.Min(waiting.Resends, 3));
            return (waiting.Ack, after < LongestResend ? after : LongestResend);
        }
    }

    /// <summary>The ack is still waiting for its <c>Applied</c>.</summary>
    public bool IsWaiting(ulong sequence)
    {
        lock (_lock)
        {
            return _waiting.ContainsKey(sequence);
        }
    }

    /// <summary>
    /// A new stream attached. The acks of the old one are not sent again: their commands are above the last acknowledged
    /// sequence, so the outbox sends the ones still pending again. <paramref name="nothingPendingUpTo"/> is the outbox's
    /// own word (Attached.resumed_after of a full attach): nothing at or below it is pending there.
    /// </summary>
    public void Reattached(ulong? nothingPendingUpTo)
    {
        lock (_lock)
        {
            _waiting.Clear();
            if (nothingPendingUpTo is { } upTo && upTo > _lastAcked)
            {
                _lastAcked = upTo;
                _highestApplied = Math.Max(_highestApplied, upTo);
            }
        }
    }

    /// <summary>The controller numbers afresh (a new outbox incarnation, or it resumes below our last ack).</summary>
    public void ResetTo(ulong resumedAfter)
    {
        lock (_lock)
        {
            _waiting.Clear();
            _lastAcked = resumedAfter;
            _highestApplied = resumedAfter;
        }
    }

    private sealed record Waiting(CommandAck Ack, int Resends);
}
