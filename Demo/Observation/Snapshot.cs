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
    /// One region: always. Two: the scheme's replica is the bank's entry: the same registration (incarnation, when both
    /// show one), version, status and server. A bank controller restarted on in-memory storage registers its
    /// connections again from version 1 under a new incarnation, and the scheme's copy follows it (see
    /// <see cref="Lag"/> for what differs when they do not agree).
    /// </summary>
    public bool RegistriesAgree(string connectionId) =>
        Replica is null || (Entry(connectionId) is { } e && Replica.GetValueOrDefault(connectionId) is { } r
            && (r.Version, r.Status, r.ServerId) == (e.Version, e.Status, e.ServerId)
            && (r.Incarnation is null || e.Incarnation is null || r.Incarnation == e.Incarnation));

    /// <summary>How the scheme's copy differs from the bank's entry, in words; empty when they agree or nothing is known.</summary>
    public string Lag(string connectionId)
    {
        if (Replica is null || Entry(connectionId) is not { } e || Replica.GetValueOrDefault(connectionId) is not { } r) return "";
        if (r.Incarnation is not null && e.Incarnation is not null && r.Incarnation != e.Incarnation)
            return $"the scheme's copy is of another registration ({r.Incarnation}; the bank's is {e.Incarnation})";
        return r.Version != e.Version ? $"the scheme's copy is at v{r.Version}, the bank at v{e.Version}" : "";
    }

    /// <summary>The registry says ACTIVE on the server the sidecar's link is signed on at.</summary>
    public bool Agrees(Bank bank) =>
        Entry(bank.ConnectionId) is { Status: "ACTIVE" } e && Sidecars.GetValueOrDefault(bank.Sidecar.SidecarId) is { } s && s.IsSignedOnAt(e.ServerAddress);
}
