using Orleans.Runtime;
using OrleansControl.Silo.Membership;

namespace OrleansControl.Grains.Tests.Silo;

public sealed class MembershipAgreementTests
{
    [Theory]
    [InlineData(true, true, 7L, SiloStatus.Active, 7L, MembershipVerdict.Agrees)]
    [InlineData(true, true, 9L, SiloStatus.Active, 7L, MembershipVerdict.Agrees)]          // the view lags the table
    [InlineData(false, false, 0L, null, 7L, MembershipVerdict.Unreachable)]                // Redis down: unknown
    [InlineData(true, false, 0L, null, 7L, MembershipVerdict.TableMissing)]               // Redis restarted empty
    [InlineData(true, true, 2L, SiloStatus.Active, 7L, MembershipVerdict.VersionWentBack)] // restored or re-created
    [InlineData(true, true, 2L, null, 7L, MembershipVerdict.VersionWentBack)]
    [InlineData(true, true, 8L, null, 7L, MembershipVerdict.SiloMissing)]                  // re-created, grown past us
    [InlineData(true, true, 8L, SiloStatus.Dead, 7L, MembershipVerdict.SiloNotActive)]
    public void The_view_and_the_table_are_judged_by_presence_version_and_own_row(
        bool reachable, bool exists, long tableVersion, SiloStatus? self, long viewVersion, MembershipVerdict expected)
    {
        var verdict = MembershipAgreement.Judge(viewVersion, new MembershipTableRead(reachable, exists, tableVersion, self));
        Assert.Equal(expected, verdict);
        Assert.Equal(expected is not (MembershipVerdict.Agrees or MembershipVerdict.Unreachable), MembershipAgreement.Disagrees(verdict));
    }

    [Fact]
    public void Options_refuse_an_exit_sooner_than_one_check()
    {
        Assert.Empty(Problems(new MembershipWatchOptions()));
        Assert.Equal(["Controller:MembershipWatch:ExitAfter must be at least Controller:MembershipWatch:CheckInterval (was 00:00:01)"],
            Problems(new MembershipWatchOptions { CheckInterval = TimeSpan.FromSeconds(5), ExitAfter = TimeSpan.FromSeconds(1) }));
        Assert.Equal(["Controller:MembershipWatch:CheckInterval must be 1 ms..1 min"], Problems(new MembershipWatchOptions { CheckInterval = TimeSpan.Zero }));
    }

    [Fact]
    public void Options_name_every_bad_setting_at_once_with_its_full_key()
    {
        var problems = Problems(new MembershipWatchOptions { CheckInterval = TimeSpan.FromMinutes(2), ExitAfter = TimeSpan.FromSeconds(1), StopGrace = TimeSpan.Zero });

        Assert.Equal(3, problems.Count);
        Assert.Contains("Controller:MembershipWatch:CheckInterval must be 1 ms..1 min", problems);
        Assert.Contains("Controller:MembershipWatch:StopGrace must be at least 1 ms", problems);
        Assert.Contains(problems, p => p.StartsWith("Controller:MembershipWatch:ExitAfter must be at least", StringComparison.Ordinal));
    }

    private static List<string> Problems(MembershipWatchOptions options) => [.. MembershipWatchHosting.Validator.Validate(null, options).Failures ?? []];
}
