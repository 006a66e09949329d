namespace OrleansControl.Silo.Membership;

/// <summary>
/// Section <c>Controller:MembershipWatch</c>: how often a silo on Redis clustering compares its membership view with
/// the table, and how long a disagreement may last before the silo exits with <see cref="MembershipTableWatch.ExitCode"/>
/// so its supervisor (Kubernetes) starts it again into the one cluster the table now holds.
/// </summary>
public sealed class MembershipWatchOptions
{
    public const string Section = "Controller:MembershipWatch";

    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A disagreement seen continuously this long ends the process (not ready from the first sight).</summary>
    public TimeSpan ExitAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest the graceful stop may take after the decision to exit; then the process exits regardless.</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(10);

    public string? FindProblem() =>
        CheckInterval <= TimeSpan.Zero || CheckInterval > TimeSpan.FromMinutes(1) ? $"CheckInterval must be > 0 and <= 1 minute (was {CheckInterval})"
        : ExitAfter < CheckInterval ? $"ExitAfter must be at least CheckInterval (was {ExitAfter})"
        : StopGrace <= TimeSpan.Zero ? $"StopGrace must be > 0 (was {StopGrace})"
        : null;
}
