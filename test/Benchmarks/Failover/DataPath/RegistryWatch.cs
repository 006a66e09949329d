using System.Diagnostics;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Sidecar.Client;
using ConnectionStatus = OrleansControl.GrainInterfaces.Models.ConnectionStatus;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>
/// One interval in which the registry said ACTIVE on <see cref="Claimed"/> while that was not true: the link was signed
/// on elsewhere or nowhere, or the server was dead. Stopwatch timestamps; an upper bound (from the last observation
/// that agreed, or the kill when the claimed server is the one killed, to the first that agreed again).
/// </summary>
internal sealed record RegistryLie(long From, long To, string Claimed, string? LinkAt, bool ClaimedServerDead)
{
    public double Ms => (To - From) * 1000.0 / Stopwatch.Frequency;

    /// <summary>
    /// Its length counted from <paramref name="detectedAt"/> (when the link itself could first know of the fault, a
    /// black hole's first echo miss) where the claim is on the dead server: nothing sees a black hole before that.
    /// 0 when it ended before; the raw <see cref="Ms"/> when there is no such moment or the claim is another kind.
    /// </summary>
    public double MsFrom(long? detectedAt) => detectedAt is { } d && ClaimedServerDead
        ? Math.Max(0, (To - Math.Max(From, d)) * 1000.0 / Stopwatch.Frequency)
        : Ms;
}

/// <summary>
/// Compares the registry with the link every <c>period</c>: the connection grain's status and server (GetState through
/// the cluster client, as an operator's query sees it) against the server the <see cref="IsoClient"/> is really signed
/// on at (<see cref="IsoClient.SignedOnAt"/>, read before and after the call so a change during the call is not
/// counted) and whether that server's process is alive. While the controller is down (<paramref name="connection"/>
/// gives null) or a query does not answer within a second, there is no observation: an open interval stays open.
/// </summary>
internal sealed class RegistryWatch(Func<IConnectionGrain?> connection, IsoClient link, Func<string, (bool Dead, long Since)> server, TimeSpan period)
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(1);

    private readonly List<RegistryLie> _lies = [];
    private readonly Lock _lock = new();
    private long _samples;
    private long _failedQueries;

    public long Samples => Interlocked.Read(ref _samples);

    public long FailedQueries => Interlocked.Read(ref _failedQueries);

    public RegistryLie[] Lies
    {
        get { lock (_lock) return [.. _lies]; }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var lastAgreed = Stopwatch.GetTimestamp();
        (long From, string Claimed, string? LinkAt, bool Dead)? open = null;
        using var timer = new PeriodicTimer(period);
        while (await Tick(timer, ct))
        {
            var before = link.SignedOnAt;
            var askedAt = Stopwatch.GetTimestamp();
            ConnectionSnapshot state;
            try
            {
                if (connection() is not { } grain)
                    continue; // the controller is down
                state = await grain.GetState().WaitAsync(QueryTimeout, ct);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref _failedQueries);
                continue; // no observation: the interval (if any) stays open until one agrees
            }
            var after = link.SignedOnAt;
            var answeredAt = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _samples);

            var claimed = state.Status == ConnectionStatus.Active ? state.ServerAddress : null;
            var (dead, deadSince) = claimed is null ? (false, 0L) : server(claimed);
            var lie = claimed is not null && (dead || (!Same(claimed, before) && !Same(claimed, after)));
            if (lie && open is null)
            {
                // It was true at the last agreeing observation; a dead server's claim turned false at the kill.
                var from = dead ? Math.Max(lastAgreed, deadSince) : lastAgreed;
                open = (from, claimed!, after ?? before, dead);
            }
            else if (!lie)
            {
                if (open is { } o)
                {
                    lock (_lock) _lies.Add(new RegistryLie(o.From, answeredAt, o.Claimed, o.LinkAt, o.Dead));
                    open = null;
                }
                lastAgreed = askedAt;
            }
        }
        if (open is { } still)
            lock (_lock) _lies.Add(new RegistryLie(still.From, Stopwatch.GetTimestamp(), still.Claimed, still.LinkAt, still.Dead));
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool Same(string a, string? b) => b is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
