using OrleansControl.Demo.Processes;

namespace OrleansControl.Demo.Observation;

/// <summary>What the demo saw at one moment: the controller's registry and pool (null while it does not answer), and
/// each sidecar's own status (null while it does not answer).</summary>
internal sealed record Snapshot(
    TimeSpan At,
    IReadOnlyDictionary<string, RegistryEntry>? Registry,
    IReadOnlyList<PoolServer>? Pool,
    IReadOnlyDictionary<string, SidecarStatus?> Sidecars)
{
    public static readonly Snapshot Empty = new(TimeSpan.Zero, null, null, new Dictionary<string, SidecarStatus?>());

    public bool ControllerAnswers => Registry is not null;

    public RegistryEntry? Entry(string connectionId) => Registry?.GetValueOrDefault(connectionId);

    /// <summary>The registry says ACTIVE on the server the sidecar's link is signed on at.</summary>
    public bool Agrees(Bank bank) =>
        Entry(bank.ConnectionId) is { Status: "ACTIVE" } e && Sidecars.GetValueOrDefault(bank.Sidecar.SidecarId) is { } s && s.IsSignedOnAt(e.ServerAddress);
}
