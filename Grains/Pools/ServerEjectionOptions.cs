using System.ComponentModel.DataAnnotations;

namespace OrleansControl.Grains.Pools;

/// <summary>
/// Outlier detection (after Envoy's): how much evidence ejects a server and for how long. Bound from
/// <c>Controller:Ejection</c> by the silo. Safety rule (Route 53 ARC's routing controls): never eject every server of a
/// pool, and never more than <see cref="MaxEjectionPercent"/> of them at once.
/// </summary>
public sealed class ServerEjectionOptions
{
    public const string Section = "Controller:Ejection";

    /// <summary>Failures of one server (from any of its connections) within <see cref="FailureWindow"/> that eject it.</summary>
    [Range(1, 1000)]
    public int FailuresToEject { get; set; } = 1;

    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First ejection's length; each further ejection within <see cref="MaxEjectionTime"/> doubles it.</summary>
    public TimeSpan BaseEjectionTime { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxEjectionTime { get; set; } = TimeSpan.FromMinutes(5);

    [Range(1, 100)]
    public int MaxEjectionPercent { get; set; } = 67;

    /// <summary>Returns the name of the first invalid setting with the problem, or null.</summary>
    public string? FindProblem()
    {
        if (FailuresToEject is < 1 or > 1000)
            return $"{nameof(FailuresToEject)} must be between 1 and 1000 (was {FailuresToEject})";
        if (FailureWindow < TimeSpan.FromSeconds(1))
            return $"{nameof(FailureWindow)} must be at least 1 second (was {FailureWindow})";
        if (BaseEjectionTime < TimeSpan.FromMilliseconds(100) || MaxEjectionTime < BaseEjectionTime)
            return $"{nameof(BaseEjectionTime)} must be at least 100 ms and at most {nameof(MaxEjectionTime)}";
        if (MaxEjectionPercent is < 1 or > 100)
            return $"{nameof(MaxEjectionPercent)} must be between 1 and 100 (was {MaxEjectionPercent})";
        return null;
    }
}
