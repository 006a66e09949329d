using OrleansControl.Grains.Connections;

namespace OrleansControl.Grains.Tests.Connections;

public sealed class HealthScoreTests
{
    [Theory]
    [InlineData(20, 0, 0, 0, 100)]     // fast echo, nothing wrong
    [InlineData(100, 0, 0, 0, 100)]    // 100 ms is free
    [InlineData(300, 0, 0, 0, 90)]     // (300-100)/20 = 10
    [InlineData(5000, 0, 0, 0, 60)]    // RTT penalty capped at 40
    [InlineData(20, 2, 0, 0, 80)]      // 10 per error
    [InlineData(20, 9, 0, 0, 70)]      // errors capped at 30
    [InlineData(20, 0, 1, 0, 85)]      // 15 per timeout
    [InlineData(20, 0, 0, 1, 75)]      // 25 per missed interval
    [InlineData(900, 3, 2, 0, 0)]      // 40 + 30 + 30
    [InlineData(20, 0, 0, 5, 0)]       // clamped at 0
    public void Score_follows_the_documented_formula(double rtt, int errors, int timeouts, int missed, int expected) =>
        Assert.Equal(expected, HealthScore.Compute(rtt, errors, timeouts, missed));
}
