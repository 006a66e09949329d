using System.ComponentModel.DataAnnotations;

namespace OrleansControl.Silo.Membership;

/// <summary>
/// Section <c>Controller:MembershipWatch</c>: how often a silo on Redis clustering compares its membership view with
/// the table, and how long a disagreement may last before the silo exits with <see cref="MembershipTableWatch.ExitCode"/>
/// so its supervisor (Kubernetes) starts it again into the one cluster the table now holds.
/// </summary>
public sealed class MembershipWatchOptions : IValidatableObject
{
    public const string Section = "Controller:MembershipWatch";

    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A disagreement seen continuously this long ends the process (not ready from the first sight).</summary>
    public TimeSpan ExitAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest the graceful stop may take after the decision to exit; then the process exits regardless.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "10675199.02:48:05.4775807")]
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The rule between settings (each setting's own range is on it: the silo's generated validator checks both).</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ExitAfter < CheckInterval)
            yield return new ValidationResult($"{Section}:{nameof(ExitAfter)} must be at least {Section}:{nameof(CheckInterval)} (was {ExitAfter})");
    }
}
