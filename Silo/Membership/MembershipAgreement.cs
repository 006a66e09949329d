using Orleans.Runtime;

namespace OrleansControl.Silo.Membership;

/// <summary>What one read of the membership table showed, for <see cref="MembershipAgreement.Judge"/>.</summary>
/// <param name="Reachable">The store answered (false: Redis down or timing out; nothing can be concluded).</param>
/// <param name="Exists">The table (its version row) exists.</param>
/// <param name="Version">The table's version; meaningful when <paramref name="Exists"/>.</param>
/// <param name="SelfStatus">This silo's row in the table, null when the table has no row for this silo.</param>
public readonly record struct MembershipTableRead(bool Reachable, bool Exists, long Version, SiloStatus? SelfStatus)
{
    public static MembershipTableRead Unreachable => new(false, false, 0, null);

    public static MembershipTableRead Missing => new(true, false, 0, null);
}

public enum MembershipVerdict
{
    /// <summary>The table has this silo Active at a version not older than the silo's view.</summary>
    Agrees,

    /// <summary>The store did not answer: not a disagreement (the table may be intact), only not known.</summary>
    Unreachable,

    /// <summary>The table is gone (Redis restarted empty, the key expired or was deleted).</summary>
    TableMissing,

    /// <summary>The table is older than what this silo has already seen: it was replaced (restored, re-created).</summary>
    VersionWentBack,

    /// <summary>The table exists but has no row for this silo: it was re-created by another silo after a loss.</summary>
    SiloMissing,

    /// <summary>The table says this silo is not Active (declared dead, or shutting down) while it is serving.</summary>
    SiloNotActive,
}

/// <summary>
/// Does this silo's membership view agree with the membership table? Orleans only ever grows the table version, and
/// an active silo's row stays in it until the silo leaves; so a missing table, a version below the one the silo's view
/// was built from, or a table without this silo means the table was lost or replaced underneath a running cluster
/// (docs/redis-registry.md, "Redis down, or back empty"). Decided here as a pure function; <see cref="MembershipTableWatch"/> reads.
/// </summary>
public static class MembershipAgreement
{
    /// <param name="viewVersion">The version of this silo's membership snapshot, taken before the table was read.</param>
    public static MembershipVerdict Judge(long viewVersion, MembershipTableRead table) => table switch
    {
        { Reachable: false } => MembershipVerdict.Unreachable,
        { Exists: false } => MembershipVerdict.TableMissing,
        _ when table.Version < viewVersion => MembershipVerdict.VersionWentBack,
        { SelfStatus: null } => MembershipVerdict.SiloMissing,
        { SelfStatus: not SiloStatus.Active } => MembershipVerdict.SiloNotActive,
        _ => MembershipVerdict.Agrees,
    };

    /// <summary>Verdicts that mean the view and the table disagree (the silo is not ready; it leaves if it lasts).</summary>
    public static bool Disagrees(MembershipVerdict verdict) =>
        verdict is not (MembershipVerdict.Agrees or MembershipVerdict.Unreachable);

    public static string Describe(MembershipVerdict verdict, long viewVersion, MembershipTableRead table) => verdict switch
    {
        MembershipVerdict.Agrees => $"membership table v{table.Version} agrees with this silo's view v{viewVersion}",
        MembershipVerdict.Unreachable => "membership table unreachable; agreement unknown",
        MembershipVerdict.TableMissing => "the membership table is missing (its store lost it)",
        MembershipVerdict.VersionWentBack => $"the membership table went back to v{table.Version}; this silo's view is at v{viewVersion}",
        MembershipVerdict.SiloMissing => $"the membership table (v{table.Version}) has no row for this silo: it was re-created without it",
        MembershipVerdict.SiloNotActive => $"the membership table (v{table.Version}) says this silo is {table.SelfStatus}",
        _ => verdict.ToString(),
    };
}
