namespace OrleansControl.Silo.Extensions;

/// <summary>
/// Section <c>Controller:Membership</c>: how fast the cluster declares a silo dead (Orleans' ClusterMembershipOptions,
/// applied with Redis clustering). A silo is suspected after <see cref="NumMissedProbesLimit"/> probes of
/// <see cref="ProbeTimeout"/> each go unanswered, and declared dead by <see cref="NumVotesForDeathDeclaration"/> such
/// suspicions (capped by Orleans at the silos there are to vote). Faster than Orleans' defaults (5 s × 3 missed, 2 votes)
/// because until the declaration every call to a grain on the dead silo waits. The cost: a live silo that cannot answer
/// probes for ProbeTimeout × NumMissedProbesLimit (a long GC pause, CPU starvation, a network blip) is declared dead and
/// restarts, taking its activations and sidecar streams with it. Orleans stretches the probe timeout while the probing
/// silo is itself unhealthy, which guards against the starved prober. Measured: BENCHMARKS.md ("silo-death").
/// </summary>
public sealed class MembershipTuningOptions
{
    /// <summary>Initial timeout of one liveness probe (Orleans adapts it between half and four times this). Default 2 s.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Missed probes in a row before the prober suspects the silo. Default 2.</summary>
    public int NumMissedProbesLimit { get; set; } = 2;

    /// <summary>Suspicions needed to declare a silo dead. Default 2 (one in a two-silo cluster, where only one can vote).</summary>
    public int NumVotesForDeathDeclaration { get; set; } = 2;

    /// <summary>How many silos each silo probes. Default 3.</summary>
    public int NumProbedSilos { get; set; } = 3;

    /// <summary>How often a silo reads the membership table (gossip spreads a declaration sooner). Default 5 s.</summary>
    public TimeSpan TableRefreshTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Returns the first invalid setting with the problem, or null.</summary>
    public string? FindProblem()
    {
        if (ProbeTimeout < TimeSpan.FromMilliseconds(200) || ProbeTimeout > TimeSpan.FromMinutes(1))
            return $"{nameof(ProbeTimeout)} must be 200 ms..1 min (was {ProbeTimeout})";
        if (NumMissedProbesLimit is < 1 or > 10)
            return $"{nameof(NumMissedProbesLimit)} must be 1..10 (was {NumMissedProbesLimit})";
        if (NumProbedSilos is < 1 or > 10)
            return $"{nameof(NumProbedSilos)} must be 1..10 (was {NumProbedSilos})";
        if (NumVotesForDeathDeclaration < 1 || NumVotesForDeathDeclaration > NumProbedSilos)
            return $"{nameof(NumVotesForDeathDeclaration)} must be 1..{nameof(NumProbedSilos)} (was {NumVotesForDeathDeclaration})";
        if (TableRefreshTimeout < TimeSpan.FromMilliseconds(500) || TableRefreshTimeout > TimeSpan.FromMinutes(10))
            return $"{nameof(TableRefreshTimeout)} must be 500 ms..10 min (was {TableRefreshTimeout})";
        return null;
    }

    /// <summary>Copies these onto Orleans' options.</summary>
    public void ApplyTo(Orleans.Configuration.ClusterMembershipOptions m)
    {
        m.ProbeTimeout = ProbeTimeout;
        m.NumMissedProbesLimit = NumMissedProbesLimit;
        m.NumVotesForDeathDeclaration = NumVotesForDeathDeclaration;
        m.NumProbedSilos = NumProbedSilos;
        m.TableRefreshTimeout = TableRefreshTimeout;
    }
}
