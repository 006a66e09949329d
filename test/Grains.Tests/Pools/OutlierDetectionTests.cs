using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Pools;

namespace OrleansControl.Grains.Tests.Pools;

public sealed class OutlierDetectionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Failures_within_the_window_eject_for_a_time_that_doubles_with_repeats_up_to_the_cap()
    {
        var options = new ServerEjectionOptions { FailuresToEject = 2, FailureWindow = TimeSpan.FromSeconds(10), BaseEjectionTime = TimeSpan.FromSeconds(30), MaxEjectionTime = TimeSpan.FromSeconds(100) };
        var evidence = new ServerEvidence();

        Assert.Null(OutlierDetection.RecordFailure(evidence, T0, options));
        Assert.Null(OutlierDetection.RecordFailure(evidence, T0.AddSeconds(11), options)); // the first one aged out
        Assert.Equal(TimeSpan.FromSeconds(30), OutlierDetection.RecordFailure(evidence, T0.AddSeconds(12), options));

        evidence.Failures.Clear();
        evidence.Ejections = 1;
        OutlierDetection.RecordFailure(evidence, T0.AddMinutes(5), options);
        Assert.Equal(TimeSpan.FromSeconds(60), OutlierDetection.RecordFailure(evidence, T0.AddMinutes(5), options));
        evidence.Ejections = 5;
        Assert.Equal(TimeSpan.FromSeconds(100), OutlierDetection.RecordFailure(evidence, T0.AddMinutes(5), options));
    }

    [Theory]
    [InlineData(1, 0, false)]
    [InlineData(2, 0, true)]
    [InlineData(2, 1, false)]
    [InlineData(3, 1, true)]
    [InlineData(3, 2, false)]
    [InlineData(10, 6, true)]
    [InlineData(10, 7, false)]
    public void The_cap_keeps_at_least_one_server_and_at_most_the_share(int servers, int alreadyEjected, bool mayEject)
    {
        var options = new ServerEjectionOptions { MaxEjectionPercent = 70 };
        var defs = Enumerable.Range(0, servers).ToDictionary(i => $"s{i}", i => new ServerDefinition($"s{i}", $"s{i}:1", "z", 1));
        var evidence = Enumerable.Range(0, alreadyEjected).ToDictionary(i => $"s{i}", _ => new ServerEvidence { EjectedUntil = T0.AddMinutes(1) });

        Assert.Equal(mayEject, OutlierDetection.CapReached(defs, evidence, T0, options) is null);
    }
}
