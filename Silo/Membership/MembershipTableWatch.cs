using Microsoft.Extensions.Options;
using Orleans.Clustering.Redis;
using Orleans.Runtime;
using StackExchange.Redis;

namespace OrleansControl.Silo.Membership;

/// <summary>
/// Compares this silo's membership view with the membership table every <see cref="MembershipWatchOptions.CheckInterval"/>
/// (rules: <see cref="MembershipAgreement"/>). From the first disagreement the silo is not ready (/readyz); when it has
/// lasted <see cref="MembershipWatchOptions.ExitAfter"/> the silo logs one line and exits with <see cref="ExitCode"/>.
/// A silo cannot re-register safely into a table that lost or replaced the cluster: the other rows it would vote on are
/// gone, and Orleans never lets a silo address rejoin, so the process leaves and its supervisor starts a new one, which
/// joins whatever single table now exists (docs/redis-registry.md, "Redis down, or back empty").
/// </summary>
public sealed partial class MembershipTableWatch(
    IMembershipTable table,
    IClusterMembershipService membership,
    ISiloStatusOracle oracle,
    ILocalSiloDetails silo,
    IHostApplicationLifetime lifetime,
    IOptions<MembershipWatchOptions> options,
    TimeProvider time,
    ILogger<MembershipTableWatch> logger) : BackgroundService
{
    /// <summary>EX_TEMPFAIL: the silo left because the membership table was lost or replaced; start it again.</summary>
    public const int ExitCode = 75;

    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);
    private readonly MembershipWatchOptions _options = options.Value;
    private DateTimeOffset? _disagreeingSince;

    /// <summary>The latest verdict (Agrees until the first check) and its description, for the readiness check.</summary>
    public (MembershipVerdict Verdict, string Detail) Latest { get; private set; } = (MembershipVerdict.Agrees, "not checked yet");

    /// <summary>True from the first disagreement until a check agrees again (unreachable checks change nothing).</summary>
    public bool Disagrees => _disagreeingSince is not null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Joining and leaving are Orleans' own business; only an Active silo claims a place in the table.
                if (oracle.CurrentStatus != SiloStatus.Active)
                    continue;
                var viewVersion = membership.CurrentSnapshot.Version.Value; // before the read: the table only grows
                var read = await ReadAsync(stoppingToken);
                var verdict = MembershipAgreement.Judge(viewVersion, read);
                if (Observe(verdict, MembershipAgreement.Describe(verdict, viewVersion, read)))
                {
                    Exit();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping (also when the host failed to start): not a fault of this service
        }
    }

    /// <summary>Records one verdict; true when the disagreement has lasted long enough to leave.</summary>
    private bool Observe(MembershipVerdict verdict, string detail)
    {
        var now = time.GetUtcNow();
        var previous = Latest.Verdict;
        Latest = (verdict, detail);
        if (verdict == MembershipVerdict.Agrees)
        {
            if (_disagreeingSince is not null)
                LogAgreesAgain(logger, detail);
            _disagreeingSince = null;
            return false;
        }
        if (!MembershipAgreement.Disagrees(verdict))
        {
            if (previous != verdict) LogUnreachable(logger, detail);
            return false;
        }
        if (_disagreeingSince is null)
        {
            _disagreeingSince = now;
            LogDisagrees(logger, silo.SiloAddress, detail, _options.ExitAfter);
        }
        return now - _disagreeingSince >= _options.ExitAfter;
    }

    private async Task<MembershipTableRead> ReadAsync(CancellationToken ct)
    {
        try
        {
            var data = await table.ReadAllAsync(ct).WaitAsync(ReadTimeout, ct);
            var self = data.TryGet(silo.SiloAddress)?.Item1.Status;
            return new MembershipTableRead(true, true, data.Version.Version, self);
        }
        catch (RedisClusteringException)
        {
            return MembershipTableRead.Missing; // the store answered: there is no version row
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return MembershipTableRead.Unreachable;
        }
    }

    private void Exit()
    {
        LogLeaving(logger, silo.SiloAddress, Latest.Detail, _options.ExitAfter.TotalSeconds, ExitCode);
        Environment.ExitCode = ExitCode;
        lifetime.StopApplication();
        // A graceful stop writes to the lost table and storage; it must not keep the process from leaving.
        _ = Task.Delay(_options.StopGrace, time, CancellationToken.None).ContinueWith(_ => Environment.Exit(ExitCode), TaskScheduler.Default);
    }

    [LoggerMessage(2101, LogLevel.Warning,
        "Membership view and table disagree on silo {Silo}: {Detail}; not ready, leaving if it lasts {ExitAfter}")]
    private static partial void LogDisagrees(ILogger logger, SiloAddress silo, string detail, TimeSpan exitAfter);

    [LoggerMessage(2102, LogLevel.Information, "Membership view and table agree again: {Detail}")]
    private static partial void LogAgreesAgain(ILogger logger, string detail);

    [LoggerMessage(2103, LogLevel.Warning, "Membership check: {Detail}")]
    private static partial void LogUnreachable(ILogger logger, string detail);

    [LoggerMessage(2104, LogLevel.Critical,
        "Membership lost, silo {Silo} exits: {Detail} for {Seconds} s; exit code {ExitCode}, start it again to join the one cluster")]
    private static partial void LogLeaving(ILogger logger, SiloAddress silo, string detail, double seconds, int exitCode);
}
