namespace OrleansControl.GrainInterfaces.Models;

/// <summary>
/// The state machine of <see cref="ConnectionStatus"/>: the single place that says which moves are legal. Active is
/// only ever entered on evidence that the sidecar is signed on (a heartbeat, a state report or a command's receipt).
/// </summary>
public static class ConnectionTransitions
{
    public static bool IsLegal(ConnectionStatus from, ConnectionStatus to) => (from, to) switch
    {
        (ConnectionStatus.None, ConnectionStatus.Requested) => true,
        (ConnectionStatus.Requested, ConnectionStatus.Active or ConnectionStatus.Failed or ConnectionStatus.Migrating or ConnectionStatus.Closed) => true,
        // An explicit move of a working link goes straight to Migrating: it has not failed.
        (ConnectionStatus.Active, ConnectionStatus.Degraded or ConnectionStatus.Failed or ConnectionStatus.Migrating or ConnectionStatus.Closed) => true,
        (ConnectionStatus.Degraded, ConnectionStatus.Active or ConnectionStatus.Failed or ConnectionStatus.Migrating or ConnectionStatus.Closed) => true,
        // Failed → Active: the sidecar reports its link signed on again (it reconnected on its own).
        (ConnectionStatus.Failed, ConnectionStatus.Migrating or ConnectionStatus.Active or ConnectionStatus.Closed) => true,
        (ConnectionStatus.Migrating, ConnectionStatus.Active or ConnectionStatus.Failed or ConnectionStatus.Closed) => true,
        // A silent, detached sidecar: Unknown; its return (or an operator's request) says what follows.
        (ConnectionStatus.Active or ConnectionStatus.Degraded, ConnectionStatus.Unknown) => true,
        (ConnectionStatus.Unknown, ConnectionStatus.Active or ConnectionStatus.Failed or ConnectionStatus.Migrating or ConnectionStatus.Closed) => true,
        _ => false,
    };

    /// <summary>Statuses in which heartbeats are expected and the timeout clock runs.</summary>
    public static bool IsMonitored(ConnectionStatus status) =>
        status is ConnectionStatus.Requested or ConnectionStatus.Active or ConnectionStatus.Degraded;
}
