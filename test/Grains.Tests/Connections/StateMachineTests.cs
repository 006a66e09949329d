using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Tests.Connections;

public sealed class StateMachineTests
{
    private static readonly HashSet<(ConnectionStatus, ConnectionStatus)> Legal =
    [
        (ConnectionStatus.None, ConnectionStatus.Requested),
        (ConnectionStatus.Requested, ConnectionStatus.Active), (ConnectionStatus.Requested, ConnectionStatus.Failed),
        (ConnectionStatus.Requested, ConnectionStatus.Migrating), (ConnectionStatus.Requested, ConnectionStatus.Closed),
        (ConnectionStatus.Active, ConnectionStatus.Degraded), (ConnectionStatus.Active, ConnectionStatus.Failed),
        (ConnectionStatus.Active, ConnectionStatus.Migrating), (ConnectionStatus.Active, ConnectionStatus.Closed),
        (ConnectionStatus.Degraded, ConnectionStatus.Active), (ConnectionStatus.Degraded, ConnectionStatus.Failed),
        (ConnectionStatus.Degraded, ConnectionStatus.Migrating), (ConnectionStatus.Degraded, ConnectionStatus.Closed),
        (ConnectionStatus.Failed, ConnectionStatus.Migrating), (ConnectionStatus.Failed, ConnectionStatus.Active), (ConnectionStatus.Failed, ConnectionStatus.Closed),
        (ConnectionStatus.Migrating, ConnectionStatus.Active), (ConnectionStatus.Migrating, ConnectionStatus.Failed), (ConnectionStatus.Migrating, ConnectionStatus.Closed),
        (ConnectionStatus.Active, ConnectionStatus.Unknown), (ConnectionStatus.Degraded, ConnectionStatus.Unknown),
        (ConnectionStatus.Unknown, ConnectionStatus.Active), (ConnectionStatus.Unknown, ConnectionStatus.Failed),
        (ConnectionStatus.Unknown, ConnectionStatus.Migrating), (ConnectionStatus.Unknown, ConnectionStatus.Closed),
    ];

    [Fact]
    public void Exactly_the_documented_transitions_are_legal()
    {
        foreach (var from in Enum.GetValues<ConnectionStatus>())
            foreach (var to in Enum.GetValues<ConnectionStatus>())
                Assert.True(Legal.Contains((from, to)) == ConnectionTransitions.IsLegal(from, to), $"{from} -> {to}");
    }
}
