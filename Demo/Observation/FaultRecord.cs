using OrleansControl.Demo.Processes;

namespace OrleansControl.Demo.Observation;

/// <summary>
/// One fault as one connection lived it: when it was injected, when the registry (or, for a controller fault, the
/// sidecar) first showed it, when the registry was ACTIVE again where the link really is, and when the bank client had
/// its first approval after it (by another server, for a server fault). Filled in by <see cref="Timeline"/>.
/// </summary>
internal sealed class FaultRecord(FaultKind kind, string description, string target, Bank bank, string? fromServer, TimeSpan injectedAt)
{
    public FaultKind Kind { get; } = kind;

    /// <summary>In words, e.g. "kill -9 srv-a".</summary>
    public string Description { get; } = description;

    public string Target { get; } = target;

    public Bank Bank { get; } = bank;

    /// <summary>The server the connection was on when the fault was injected.</summary>
    public string? FromServer { get; } = fromServer;

    public TimeSpan InjectedAt { get; } = injectedAt;

    public TrafficSample AtInjection { get; } = bank.Client.At(injectedAt);

    /// <summary>Server fault: the registry no longer ACTIVE on the old server. Controller fault: the sidecar detached.</summary>
    public TimeSpan? DetectedAt { get; set; }

    /// <summary>What the registry said when it first showed the fault, e.g. "MIGRATING: waiting for …".</summary>
    public string? DetectedAs { get; set; }

    /// <summary>The registry ACTIVE where the link is signed on (on another server, for a server fault).</summary>
    public TimeSpan? ActiveAt { get; set; }

    public string? ActiveOn { get; set; }

    /// <summary>When the fault was undone: the new controller process answered (its registry counts from then on), the
    /// link between the regions was restored.</summary>
    public TimeSpan? UndoneAt { get; set; }

    public TimeSpan? FirstApprovedAt { get; set; }

    public string? FirstApprovedBy { get; set; }

    /// <summary>When the demo stopped following it (recovered, given up, or the run ended); the traffic window ends here.</summary>
    public TimeSpan? ClosedAt { get; set; }

    public TrafficSample? AtClose { get; set; }

    public bool Recovered => ActiveAt is not null && FirstApprovedAt is not null;

    public string Connection => Bank.ConnectionId;
}
