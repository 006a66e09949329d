using System.ComponentModel.DataAnnotations;

namespace OrleansControl.Grains.Pools;

/// <summary>
/// Outlier detection (after Envoy's): how much evidence ejects a server and for how long. Bound from
/// <c>Controller:Ejection</c> by the silo. Safety rule (Route 53 ARC's routing controls): never eject every server of a
/// pool, and never more than <see cref="MaxEjectionPercent"/> of them at once.
/// </summary>
public sealed class ServerEjectionOptions : IValidatableObject
{
    public const string Section = "Controller:Ejection";

    /// <summary>Failures of one server (from any of its connections) within <see cref="FailureWindow"/> that eject it.</summary>
    [Range(1, 1000)]
    public int FailuresToEject { get; set; } = 1;

    [Range(typeof(TimeSpan), "00:00:01", "10675199.02:48:05.4775807")]
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First ejection's length; each further ejection within <see cref="MaxEjectionTime"/> doubles it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "10675199.02:48:05.4775807")]
    public TimeSpan BaseEjectionTime { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxEjectionTime { get; set; } = TimeSpan.FromMinutes(5);

    [Range(1, 100)]
    public int MaxEjectionPercent { get; set; } = 67;

    /// <summary>The rule between settings (each setting's own range is on it: the silo's generated validator checks both).</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxEjectionTime < BaseEjectionTime)
            yield return new ValidationResult($"{Section}:{nameof(MaxEjectionTime)} must be at least {Section}:{nameof(BaseEjectionTime)}");
    }
}
