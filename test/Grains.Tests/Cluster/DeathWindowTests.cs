using System.Diagnostics;
using Orleans.Runtime;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansControl.Grains.Tests.Cluster;

/// <summary>
/// The pool grain's silo is killed; before membership declares it dead a scheme server fails. The failover must not
/// wait for the declaration: its target comes from the replica of the pool on the connection's silo, and the pool
/// reconciles the reservation once it is active again elsewhere, booking every connection exactly once.
/// </summary>
[Collection(Name)]
public sealed class DeathWindowTests(ThreeSiloFixture fixture, ITestOutputHelper output) : IClassFixture<ThreeSiloFixture>
{
    public const string Name = "death window";

    // Known failure on main after the session's merges (issue 15, open): in two of three clean-clone runs the move still
    // waited on the dying silo (a set-up Register over 3 s, then a ReportFailure over 10 s); it passed on its branch and
    // alone. Skipped, with this reason printed, until the death-window stall is found; the silo-death benchmark measures it.
    [Fact]
    public async Task A_server_failure_while_the_pool_silo_is_dying_moves_the_connection_without_waiting_for_the_death_declaration()
    {
        await fixture.EnsureThreeSilosAsync();
        using var calls = new GrainCallWatch(output);
        var grains = fixture.Client;
        var management = grains.GetGrain<IManagementGrain>(0);

        // A connection (and its sidecar's outbox) on another silo than the pool, whose timer publishes its health reports
        // to a stream queue on the pool's silo: the pool and a call the timer makes are in the death window (the stall of
        // issue 15 was a timer tick waiting there, with the failure report queued behind it). Grains are placed at random:
        // a new pool until one lands with the queue, a new connection until one lands elsewhere.
        IServerPoolGrain? pool = null;
        SiloAddress? poolSilo = null;
        IConnectionGrain? connection = null;
        IAsyncDisposable? attached = null;
        for (var i = 0; i < 60 && connection is null; i++)
        {
            if (pool is null)
            {
                pool = await Scenario.PoolAsync(grains, Scenario.NewId("dw"), ("s-a", "a", 30), ("s-b", "b", 30), ("s-c", "c", 30));
                poolSilo = await management.GetActivationAddress(pool) ?? throw new InvalidOperationException("pool not active");
            }
            var candidate = await Scenario.ActiveAsync(grains, pool.GetPrimaryKeyString(), preferred: "s-a");
            var queue = await calls.QueueOfTimerAsync(candidate.GetPrimaryKeyString());
            if (queue is null || !poolSilo!.Equals(await management.GetActivationAddress(grains.GetGrain(queue.Value))))
            {
                pool = null; // its queue is elsewhere: another pool, placed anew
                continue;
            }
            var stream = await Scenario.AttachSidecarAsync(grains, candidate);
            var outbox = grains.GetGrain<ISidecarOutboxGrain>((await candidate.GetState()).SidecarId!);
            if (!poolSilo.Equals(await management.GetActivationAddress(candidate)) && !poolSilo.Equals(await management.GetActivationAddress(outbox)))
                (connection, attached) = (candidate, stream);
            else
                await stream.DisposeAsync();
        }
        Assert.NotNull(connection);
        Assert.NotNull(pool);
        await using var _ = attached!;
        var registered = (await pool.GetSnapshot()).TotalLoad;
        await Task.Delay(1500); // the replicas have copied the pool at least once

        var victim = fixture.Cluster.Silos.Single(s => s.SiloAddress.Equals(poolSilo));
        var survivor = fixture.Cluster.Silos.First(s => s != victim);
        var clock = Stopwatch.StartNew();
        calls.Mark();
        await fixture.HardKillAsync(victim);
        var killedIn = clock.Elapsed;

        // The scheme server fails a moment into the death window, once the connection's timers have ticked in it. Timed
        // from the report: the kill itself takes a while on a loaded machine, and is not the failover's time.
        await Task.Delay(1000);
        output.WriteLine($"killed in {killedIn.TotalMilliseconds:F0} ms, reported {clock.Elapsed.TotalMilliseconds:F0} ms after the kill began");
        var sinceReport = Stopwatch.StartNew();
        var result = await connection.ReportFailure(new FailureReport("connection reset by s-a", "s-a"));
        var targetAt = sinceReport.Elapsed;
        Assert.Equal(FailoverOutcome.Migrating, result.Outcome);
        var target = result.Record!.ToServerId!;
        Assert.NotEqual("s-a", target);
        var move = await TestSettings.EventuallyAsync(() => Scenario.PendingMoveAsync(grains, connection), _ => true, TimeSpan.FromSeconds(3));
        Assert.Equal(Scenario.Address(target), move.Command.TargetServerAddress);
        await connection.RecordHeartbeat(Scenario.SignedOnAt(Scenario.Address(target)));
        var active = await connection.GetState();
        var movedAt = sinceReport.Elapsed;
        var statusThen = ThreeSiloFixture.Membership(survivor).CurrentSnapshot.GetSiloStatus(poolSilo!);
        var stillListed = statusThen == SiloStatus.Active;
        output.WriteLine($"target {target} after {targetAt.TotalMilliseconds:F0} ms, Active there after {movedAt.TotalMilliseconds:F0} ms; " +
            $"pool silo in membership then: {statusThen}");

        Assert.Equal((ConnectionStatus.Active, target), (active.Status, active.ServerId));
        Assert.True(stillListed, "the move was to happen inside the death window (the pool's silo not yet declared dead)");
        // Inside the death window is the point (asserted above); the time is a benchmark's (0.1-1.1 s here idle; bounded
        // calls add up to 3-5 s on a clean-clone CI run, still long before the 8-12 s declaration of this fixture).
        Assert.True(movedAt < TimeSpan.FromSeconds(6), $"moved in {movedAt.TotalMilliseconds:F0} ms");

        // Declared dead, the pool reactivates elsewhere from storage (where the connection was still booked on s-a); the
        // connection's next tick reconciles: one reservation, on the target.
        await TestSettings.EventuallyAsync(() => Task.FromResult(ThreeSiloFixture.Membership(survivor).CurrentSnapshot.GetSiloStatus(poolSilo!)),
            s => s == SiloStatus.Dead, TimeSpan.FromSeconds(30));
        output.WriteLine($"pool silo declared dead {clock.Elapsed.TotalMilliseconds:F0} ms after the kill");
        var snapshot = await TestSettings.EventuallyAsync(() => pool.GetSnapshot(),
            s => s.Servers.Single(x => x.ServerId == target).Load == 1 && s.Servers.Single(x => x.ServerId == "s-a").Load == registered - 1,
            TimeSpan.FromSeconds(20));
        output.WriteLine(string.Join(", ", snapshot.Servers.Select(s => $"{s.ServerId} {s.Load}/{s.Capacity}")));
        Assert.Equal(registered, snapshot.TotalLoad);
        Assert.Equal(1, snapshot.Servers.Single(s => s.ServerId == target).Load);
        Assert.Equal(registered - 1, snapshot.Servers.Single(s => s.ServerId == "s-a").Load);
    }

    [Fact]
    public async Task A_move_whose_sidecar_outbox_is_on_the_dying_silo_is_decided_at_once_and_its_command_lands_once_the_outbox_is_back()
    {
        await fixture.EnsureThreeSilosAsync();
        using var calls = new GrainCallWatch(output);
        var grains = fixture.Client;
        var management = grains.GetGrain<IManagementGrain>(0);
        var poolId = Scenario.NewId("dwo");
        var pool = await Scenario.PoolAsync(grains, poolId, ("s-a", "a", 60), ("s-b", "b", 60), ("s-c", "c", 60));
        var poolSilo = await management.GetActivationAddress(pool) ?? throw new InvalidOperationException("pool not active");

        // The sidecar's outbox on a silo that hosts neither the connection nor the pool: only the outbox is in the window.
        IConnectionGrain? connection = null;
        SiloAddress? outboxSilo = null;
        for (var i = 0; i < 50 && connection is null; i++)
        {
            // The outbox activated first from outside, as a sidecar's attach through a gateway does (from the connection's
            // first call it would be placed beside it).
            var outbox = grains.GetGrain<ISidecarOutboxGrain>(Scenario.NewId("sidecar"));
            await outbox.GetPending();
            var candidate = grains.GetGrain<IConnectionGrain>(Scenario.NewId("conn"));
            var registered = await candidate.Register(new ConnectionRegistration(Scenario.NewId("bank"), poolId, "s-a", SidecarId: outbox.GetPrimaryKeyString()));
            await candidate.RecordHeartbeat(Scenario.SignedOnAt(registered.ServerAddress!));
            var at = await management.GetActivationAddress(outbox);
            if (i < 3)
                output.WriteLine($"candidate {i}: outbox on {at}, pool on {poolSilo}, connection on {await management.GetActivationAddress(candidate)}");
            if (at is not null && !at.Equals(poolSilo) && !at.Equals(await management.GetActivationAddress(candidate)))
                (connection, outboxSilo) = (candidate, at);
        }
        Assert.NotNull(connection);
        var sidecar = (await connection.GetState()).SidecarId!;

        var victim = fixture.Cluster.Silos.Single(s => s.SiloAddress.Equals(outboxSilo));
        var survivor = fixture.Cluster.Silos.First(s => s != victim);
        calls.Mark();
        await fixture.HardKillAsync(victim);
        await Task.Delay(1000);

        var sinceReport = Stopwatch.StartNew();
        var result = await connection.ReportFailure(new FailureReport("connection reset by s-a", "s-a"));
        var decidedAt = sinceReport.Elapsed;
        var statusThen = ThreeSiloFixture.Membership(survivor).CurrentSnapshot.GetSiloStatus(outboxSilo!);
        output.WriteLine($"decided {result.Outcome} to {result.Record?.ToServerId} after {decidedAt.TotalMilliseconds:F0} ms " +
            $"(outbox silo then: {statusThen}); detail: {result.Snapshot.StatusDetail}");
        Assert.Equal(FailoverOutcome.Migrating, result.Outcome);
        Assert.Equal(SiloStatus.Active, statusThen);
        Assert.True(decidedAt < TimeSpan.FromSeconds(2.5), $"decided in {decidedAt.TotalMilliseconds:F0} ms");
        // Truth: the registry does not claim the command reached a sidecar it could not reach.
        Assert.Contains("not in sidecar", result.Snapshot.StatusDetail);

        // Declared dead, the outbox comes back elsewhere from storage and the command lands in it, once.
        var pending = await TestSettings.EventuallyAsync(() => grains.GetGrain<ISidecarOutboxGrain>(sidecar).GetPending(),
            p => p.Any(c => c.Command.MovesLink && c.Command.ConnectionId == connection.GetPrimaryKeyString()), TimeSpan.FromSeconds(40));
        output.WriteLine($"command in the outbox {sinceReport.Elapsed.TotalMilliseconds:F0} ms after the report");
        var target = result.Record!.ToServerId!;
        var moves = pending.Where(c => c.Command.MovesLink && c.Command.ConnectionId == connection.GetPrimaryKeyString()).ToList();
        Assert.Single(moves);
        Assert.Equal(Scenario.Address(target), moves[0].Command.TargetServerAddress);
        var queued = await TestSettings.EventuallyAsync(() => connection.GetState(), s => s.StatusDetail.StartsWith("waiting for sidecar", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5));
        Assert.Equal(ConnectionStatus.Migrating, queued.Status);

        await Scenario.SignOnAtTargetAsync(grains, connection);
        var active = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, target), (active.Status, active.ServerId));
    }
}

/// <summary>
/// Orleans' own spans of grain calls (activity propagation is on in the silos): which stream queue a connection's timer
/// publishes to, and the calls that took long (printed, to see what a stalled move waited for).
/// </summary>
internal sealed class GrainCallWatch : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _mark = TimeSpan.MaxValue;
    private readonly ActivityListener _listener;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(TimeSpan At, Activity Call)> _calls = new();

    public GrainCallWatch(ITestOutputHelper output)
    {
        _output = output;
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a => _calls.Enqueue((_clock.Elapsed, a)),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The memory stream queue a tick of the connection's heartbeat timer published to (its health report).</summary>
    public async Task<GrainId?> QueueOfTimerAsync(string connectionId)
    {
        var source = $"connection/{connectionId}";
        for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(5); await Task.Delay(100))
        {
            var enqueue = _calls.Select(c => c.Call).FirstOrDefault(a => a.DisplayName.EndsWith("IMemoryStreamQueueGrain/Enqueue", StringComparison.Ordinal)
                && Equals(a.GetTagItem("orleans.rpc.source_id"), source)
                && a.Parent?.DisplayName.EndsWith("InvokeCallbackAsync", StringComparison.Ordinal) == true);
            if (enqueue?.GetTagItem("orleans.rpc.target_id") is string target)
                return GrainId.Parse(target);
        }
        return null;
    }

    /// <summary>From now on, calls that take over 400 ms are printed when the watch is disposed.</summary>
    public void Mark() => _mark = _clock.Elapsed;

    public void Dispose()
    {
        _listener.Dispose();
        foreach (var (at, call) in _calls.Where(c => c.At >= _mark && c.Call.Duration > TimeSpan.FromMilliseconds(400) && c.Call.Kind == ActivityKind.Client))
            _output.WriteLine($"slow call, ended {(at - _mark).TotalMilliseconds:F0} ms after the kill: {call.DisplayName} {call.Duration.TotalMilliseconds:F0} ms " +
                $"from {call.GetTagItem("orleans.rpc.source_id")} to {call.GetTagItem("orleans.rpc.target_id")}");
    }
}

/// <summary>Alone: a death window of a few seconds on 2 cores shared with other test classes is not one.</summary>
[CollectionDefinition(DeathWindowTests.Name, DisableParallelization = true)]
public sealed class DeathWindowCollection;
