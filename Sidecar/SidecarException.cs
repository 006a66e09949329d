namespace OrleansControl.Sidecar;

/// <summary>Why a request (or an operation on a connection) did not get its response.</summary>
public enum SidecarError
{
    /// <summary>No response within the request's timeout (whether or not it reached the wire).</summary>
    Timeout,

    /// <summary>The connection carrying the request went down before its response arrived.</summary>
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

    /// <summary>A listener (scheme server, relay) could not take its port: another process holds it. Start-up fails.</summary>
    ListenFailed,
}

/// <summary>
/// The one exception type of the sidecar: a request or link operation that ended without a response, or a listener
/// that could not start (<see cref="SidecarError.ListenFailed"/>).
/// </summary>
/// <remarks>Messages never carry message contents (PAN, track, PIN block); only MTI, STAN-level keys and endpoints.</remarks>
public sealed class SidecarException(SidecarError error, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public SidecarError Error { get; } = error;
}
