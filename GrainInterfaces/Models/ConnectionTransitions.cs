namespace OrleansControl.GrainInterfaces.Models;

/// <summary>The state machine of <see cref="ConnectionStatus"/>: the single place that says which moves are legal.</summary>
public static class ConnectionTransitions
{
    public static bool IsLegal(ConnectionStatus from, ConnectionStatus to) => (from, to) switch
    {
        (ConnectionStatus.None, ConnectionStatus.Requested) => true,
        (ConnectionStatus.Requested, ConnectionStatus.Active or ConnectionStatus.Failed or ConnectionStatus.Closed) => true,
        (ConnectionStatus.Active, ConnectionStatus.Degraded or ConnectionStatus.Failed or ConnectionStatus.Closed) => true,
        (ConnectionStatus.Degraded, ConnectionStatus.Active or ConnectionStatus.Failed or ConnectionStatus.Closed) => true,
        (ConnectionStatus.Failed, ConnectionStatus.Migrating or ConnectionStatus.Closed) => true,
        (ConnectionStatus.Migrating, ConnectionStatus.Active or ConnectionStatus.Failed or ConnectionStatus.Closed) => true,
        _ => false,
    };

    /// <summary>Statuses in which heartbeats are expected and the timeout clock runs.</summary>
    public static bool IsMonitored(ConnectionStatus status) =>
        status is ConnectionStatus.Requested or ConnectionStatus.Active or ConnectionStatus.Degraded;
}
