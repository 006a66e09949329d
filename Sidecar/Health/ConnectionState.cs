namespace OrleansControl.Sidecar.Health;

/// <summary>Where a connection stands, as the agent reports it to the controller.</summary>
public enum ConnectionState
{
    /// <summary>Opening the socket or signing on (also between reconnect attempts).</summary>
    Connecting,

    /// <summary>Signed on and healthy: requests flow.</summary>
    SignedOn,

    /// <summary>Signed on, but echoes are missed or slow, or requests time out.</summary>
    Degraded,

    /// <summary>Taking no new requests; finishing the ones in flight before signing off.</summary>
    Draining,

    /// <summary>No usable link (lost, refused, or not yet reconnected).</summary>
    Down,

    /// <summary>Closed by its owner; it will not reconnect.</summary>
    Closed,
}

/// <summary>A state transition, raised on every change.</summary>
public sealed record ConnectionStateChanged(
    ConnectionState Previous,
    ConnectionState Current,
    string? Endpoint,
    string Reason,
    DateTimeOffset At);

/// <summary>The signed-on link missed <paramref name="EchoMisses"/> echo tests in a row but is not declared down yet.</summary>
/// <param name="Server">The server of the suspect session, as it was given (what the controller names servers by).</param>
public sealed record LinkSuspicion(string Server, int EchoMisses, DateTimeOffset At);
