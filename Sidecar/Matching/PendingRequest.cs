namespace OrleansControl.Sidecar.Matching;

/// <summary>
/// One accepted request waiting for its outcome. It is completed exactly once, by whoever removes it from
/// the matcher: the response, the timeout sweeper, the loss of its session, or cancellation.
/// </summary>
internal sealed class PendingRequest<TMessage>(MatchKey key, TMessage request, long deadline, TimeSpan timeout)
    : TaskCompletionSource<TMessage>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    /// <summary>Marks a request that is being failed before any session took it: no session may write it any more.</summary>
    private const long Unwritten = -1;

    /// <summary>0 while queued (accepted, waiting for a signed-on session); afterwards the id of the session it was written to.</summary>
    private long _sessionId;

    public MatchKey Key { get; } = key;

    public TMessage Request { get; } = request;

    /// <summary>Stopwatch timestamp after which the request has timed out.</summary>
    public long Deadline { get; } = deadline;

    public TimeSpan Timeout { get; } = timeout;

    public long SessionId => Volatile.Read(ref _sessionId);

    /// <summary>
    /// Given to a session to write (it may have reached the wire). Erring this way is deliberate: a request counted
    /// as written that was not costs a needless reversal; one counted as not sent that was could cost money.
    /// </summary>
    public bool WasWritten => SessionId > 0;

    public long StartedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Claims the request for one session; false if another session already took it (or it is being failed unwritten).</summary>
    public bool TryAssign(long sessionId) => Interlocked.CompareExchange(ref _sessionId, sessionId, 0) == 0;

    /// <summary>True when no session took it, and now none can: failing it means it was not sent.</summary>
    public bool TryClaimUnwritten() =>
        Interlocked.CompareExchange(ref _sessionId, Unwritten, 0) is 0 or Unwritten;
}
