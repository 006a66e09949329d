using OrleansControl.Demo.Processes;

namespace OrleansControl.Demo.Observation;

/// <summary>What the demo saw at one moment: the controller's registry and pool (null while it does not answer), and
/// each sidecar's own status (null while it does not answer); in two regions also the scheme region's copy of each
/// bank connection (its replica; null entry while it has none or does not answer).</summary>
internal sealed record Snapshot(
    TimeSpan At,
    IReadOnlyDictionary<string, RegistryEntry>? Registry,
    IReadOnlyList<PoolServer>? Pool,
    IReadOnlyDictionary<string, SidecarStatus?> Sidecars,
    IReadOnlyDictionary<string, RegistryEntry?>? Replica = null)
{
    public static readonly Snapshot Empty = new(TimeSpan.Zero, null, null, new Dictionary<string, SidecarStatus?>());

    public bool ControllerAnswers => Registry is not null;

    public RegistryEntry? Entry(string connectionId) => Registry?.GetValueOrDefault(connectionId);

    /// <summary>
    /// One region: always. Two: the scheme's replica has the bank's entry with the same status and server. Versions are
    /// shown, not compared: a bank controller restarted on in-memory storage counts its entries from version 1 again,
    /// while the scheme keeps the higher version it had (versions decide), so they differ from then on; see
    /// <see cref="VersionsDiffer"/>.
    /// </summary>
    public bool RegistriesAgree(string connectionId) =>
        Replica is null || (Entry(connectionId) is { } e && Replica.GetValueOrDefault(connectionId) is { } r
            && (r.Status, r.ServerId) == (e.Status, e.ServerId));

    public bool VersionsDiffer(string connectionId) =>
        Replica is not null && Entry(connectionId) is { } e && Replica.GetValueOrDefault(connectionId) is { } r && r.Version != e.Version;

    /// <summary>The registry says ACTIVE on the server the sidecar's link is signed on at.</summary>
    public bool Agrees(Bank bank) =>
        Entry(bank.ConnectionId) is { Status: "ACTIVE" } e && Sidecars.GetValueOrDefault(bank.Sidecar.SidecarId) is { } s && s.IsSignedOnAt(e.ServerAddress);
}
