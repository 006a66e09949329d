using System.Diagnostics;
using OrleansControl.Benchmarks.Shared;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Benchmarks.Failover.DataPath;

// --scenario controller-down: the controller (silo and gateway, one host) is stopped, then the server the link is
// on is killed. Nobody can tell the sidecar where to go: it moves to the first of the backups the controller gave it
// before it went away. Then the controller is started again on the same gRPC port, on memory storage (it knows
// nothing: its operator declares the pool again, the sidecar registers again), and the registry has to learn the truth.
internal sealed partial class DataPathRig
{
    private static readonly TimeSpan ControllerStopGrace = TimeSpan.FromSeconds(5);

    private async Task<DataPathTrial> ControllerDownTrialAsync(int number)
    {
        var (victim, first, startedAt, reversals) = await ReadyAsync();
        var stopAt = Stopwatch.GetTimestamp();
        await StopControllerAsync();
        var stoppedMs = DataPathReport.Ms(stopAt, Stopwatch.GetTimestamp());
        await Until(() => Task.FromResult(!_agent.Attached), "the sidecar detached from the stopped controller");
        var detachedMs = DataPathReport.Ms(stopAt, Stopwatch.GetTimestamp());
        // The agent is retrying an unreachable controller now, as it would be after a crash.
        await Task.Delay(_settings.SteadyMs);

        var killWall = DateTimeOffset.UtcNow;
        var killAt = victim.Kill();
        MarkFaulted(victim, killAt);
        var afterKill = Load.Count;
        await victim.WaitForExitAsync();
        var approved = await FirstApprovedElsewhere(afterKill, killAt, victim);
        await Until(() => Task.FromResult(_link.SignedOnAt is { } at && ByAddress(at) != victim), "the link signed on at a backup");
        // Reversals need no controller: they go on whichever link is up, the backup's.
        var settled = await SettleAsync(first, killAt);
        var own = _agent.Status().LastOwnMove;
        var ownMs = own is not null && own.At >= killWall ? (own.At - killWall).TotalMilliseconds : (double?)null;

        // The controller comes back; the killed server stays dead until the registry has caught up.
        var restartAt = Stopwatch.GetTimestamp();
        await StartControllerAsync();
        var upMs = DataPathReport.Ms(restartAt, Stopwatch.GetTimestamp());
        await DeclareServersAsync(PoolGrain, _servers);
        var declaredMs = DataPathReport.Ms(restartAt, Stopwatch.GetTimestamp());
        await Until(() => Task.FromResult(_agent.Attached), "the sidecar attached to the restarted controller");
        var attachedMs = DataPathReport.Ms(restartAt, Stopwatch.GetTimestamp());
        await Until(async () => _link.SignedOnAt is { } at && await IsActiveAt(at), "the registry active where the link is");
        var truthMs = DataPathReport.Ms(restartAt, Stopwatch.GetTimestamp());

        var trial = new DataPathTrial(number, $"controller down, kill -9 {victim.ServerId}", victim.ServerId,
            approved?.Server ?? ByAddress(_link.SignedOnAt ?? "")?.ServerId, startedAt, killAt, first)
        {
            FirstApprovedMs = approved is null ? null : DataPathReport.Ms(killAt, approved.EndedAt),
            Reversals = reversals,
            SettledMs = settled,
            Steps =
            [
                new("sidecar sees the link down", _events.FirstAfter(killAt, e => e.Current == ConnectionState.Down)),
                new("own move started", ownMs),
                new("link signed on at the backup", _events.FirstAfter(killAt, e => e.Current == ConnectionState.SignedOn)),
                new("own move done (agent's log)", _moves.FirstMoveAfter(killAt)),
                new("first approved from the backup", approved is null ? null : DataPathReport.Ms(killAt, approved.EndedAt)),
                new("settled: every txn ended, every reversal acknowledged (controller down)", settled),
            ],
            RestartSteps =
            [
                new("stop: StopAsync returned", stoppedMs),
                new("stop: sidecar detached", detachedMs),
                new("restart: StartAsync returned", upMs),
                new("restart: pool declared again by its operator", declaredMs),
                new("restart: sidecar attached again", attachedMs),
                new("restart: registry Active where the link is", truthMs),
            ],
            Note = OwnMoveSince(killWall) ?? "moved without an own move?",
        };

        await victim.StartAsync(CancellationToken.None);
        return trial with { Reinstated = await ReinstateAsync(victim) };
    }

    /// <summary>
    /// Stops silo and gateway (one host). Streams still open after <see cref="ControllerStopGrace"/> are cut: a
    /// controller that goes away does not wait for its sidecars.
    /// </summary>
    private async Task StopControllerAsync()
    {
        var app = Interlocked.Exchange(ref _app, null) ?? throw new InvalidOperationException("the controller is down already");
        using (var grace = new CancellationTokenSource(ControllerStopGrace))
            await app.StopAsync(grace.Token);
        await app.DisposeAsync();
    }

    /// <summary>A new controller on the same gRPC port, memory storage: registry, pools and outboxes start empty.</summary>
    private async Task StartControllerAsync()
    {
        var (app, _) = await InProcessController.StartAsync(_controllerSettings, grpcPort: _grpcPort);
        Volatile.Write(ref _app, app);
    }
}
