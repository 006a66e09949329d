namespace OrleansControl.Sidecar.Matching;

/// <summary>
/// One accepted request waiting for its outcome. It is completed exactly once, by whoever removes it from
/// the matcher: the response, the timeout sweeper, the loss of its session, or cancellation.
/// </summary>
internal sealed class PendingRequest<TMessage>(MatchKey key, TMessage request, long deadline, TimeSpan timeout)
    : TaskCompletionSource<TMessage>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    /// <summary>0 while queued (accepted, waiting for a signed-on session); afterwards the id of the session it was written to.</summary>
    private long _sessionId;

    public MatchKey Key { get; } = key;

    public TMessage Request { get; } = request;

    /// <summary>Stopwatch timestamp after which the request has timed out.</summary>
    public long Deadline { get; } = deadline;

    public TimeSpan Timeout { get; } = timeout;

    public long SessionId => Volatile.Read(ref _sessionId);

    public long StartedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Claims the request for one session; false if another session already took it.</summary>
    public bool TryAssign(long sessionId) => Interlocked.CompareExchange(ref _sessionId, sessionId, 0) == 0;
}
