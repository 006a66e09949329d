namespace OrleansControl.Sidecar;

/// <summary>Why a request (or an operation on a connection) did not get its response.</summary>
public enum SidecarError
{
    /// <summary>Written to the link, no response within the request's timeout. Fate unknown.</summary>
    Timeout,

    /// <summary>Written to the link, and the session carrying it ended before its response arrived. Fate unknown.</summary>
    ConnectionLost,

    /// <summary>A request with the same match key is already in flight; the new one was not sent.</summary>
    DuplicateKey,

    /// <summary>The cap on requests in flight was reached; the request was not sent.</summary>
    InFlightLimit,

    /// <summary>The connection is draining or closed and takes no new requests.</summary>
    NotAccepting,

    /// <summary>The peer refused sign-on, or the link could not be signed on.</summary>
    SignOnRefused,

    /// <summary>Sending to this peer was stopped by command.</summary>
    SendingStopped,

    /// <summary>The message could not be packed with the link's spec (e.g. letters in an n field); nothing was sent.</summary>
    InvalidMessage,

    /// <summary>A move was abandoned because a newer move (or a drain) replaced it before it was signed on.</summary>
    Superseded,

    /// <summary>
    /// Accepted, but no signed-on session took it within its timeout (or the one it was given closed before writing
    /// it): it never reached the wire.
    /// </summary>
    NoLink,

    /// <summary>A listener (scheme server, relay) could not take its port: another process holds it. Start-up fails.</summary>
    ListenFailed,
}

/// <summary>What the application may conclude about a request, whatever the error.</summary>
public enum RequestOutcome
{
    /// <summary>The response arrived: it is the outcome.</summary>
    Answered,

    /// <summary>Definitely not processed: nothing reached the wire. Safe to decline or to send again.</summary>
    NotSent,

    /// <summary>
    /// Sent, no answer: the scheme may have processed it. Never to be treated as a decline nor sent again as new;
    /// it is settled by a reversal (the sidecar queues one where configured, see <see cref="SidecarException.Reversal"/>).
    /// </summary>
    FateUnknown,
}

/// <summary>A reversal the sidecar queued durably for a request whose fate is unknown.</summary>
/// <param name="Id">The journal's id for it (in log lines and events).</param>
/// <param name="Mti">The reversal's MTI (e.g. 0420; its repeats are 0421).</param>
/// <param name="Stan">The reversal's own STAN (field 11).</param>
public sealed record QueuedReversal(long Id, int Mti, string Stan);

/// <summary>
/// The one exception type of the sidecar: a request or link operation that ended without a response, or a listener
/// that could not start (<see cref="SidecarError.ListenFailed"/>).
/// </summary>
/// <remarks>Messages never carry message contents (PAN, track, PIN block); only MTI, STAN-level keys and endpoints.</remarks>
public sealed class SidecarException(SidecarError error, string message, Exception? inner = null, QueuedReversal? reversal = null)
    : Exception(message, inner)
{
    public SidecarError Error { get; } = error;

    /// <summary><see cref="RequestOutcome.FateUnknown"/> for <see cref="SidecarError.Timeout"/> and <see cref="SidecarError.ConnectionLost"/>, else <see cref="RequestOutcome.NotSent"/>.</summary>
    public RequestOutcome Outcome => OutcomeOf(Error);

    /// <summary>For a fate-unknown request the sidecar reverses: the reversal it queued (durably, before this was thrown).</summary>
    public QueuedReversal? Reversal { get; } = reversal;

    /// <summary>The one rule: a request that reached the wire and got no answer has an unknown fate; every other error means not sent.</summary>
    public static RequestOutcome OutcomeOf(SidecarError error) =>
        error is SidecarError.Timeout or SidecarError.ConnectionLost ? RequestOutcome.FateUnknown : RequestOutcome.NotSent;
}
