using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Tests.Infrastructure;

/// <summary>Small builders so each test reads as the behaviour it checks. Every test uses fresh, unique ids.</summary>
public static class Scenario
{
    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>A pool with servers (id, zone, capacity); addresses are made up from the id.</summary>
    public static async Task<IServerPoolGrain> PoolAsync(IGrainFactory grains, string poolId, params (string Id, string Zone, int Capacity)[] servers)
    {
        var pool = grains.GetGrain<IServerPoolGrain>(poolId);
        foreach (var (id, zone, capacity) in servers)
            await pool.AddOrUpdateServer(new ServerDefinition(id, $"{id}.scheme.test:8583", zone, capacity));
        return pool;
    }

    /// <summary>A two-zone pool (s-a1, s-a2 in zone a; s-b1 in zone b) with a fresh id.</summary>
    public static Task<IServerPoolGrain> TwoZonePoolAsync(IGrainFactory grains, out string poolId, int capacity = 10)
    {
        poolId = NewId("pool");
        return PoolAsync(grains, poolId, ("s-a1", "a", capacity), ("s-a2", "a", capacity), ("s-b1", "b", capacity));
    }

    public static string Address(string serverId) => $"{serverId}.scheme.test:8583";

    /// <summary>Registers a connection carried by a fresh sidecar (or by none, with <paramref name="withSidecar"/> false).</summary>
    public static async Task<IConnectionGrain> RegisterAsync(IGrainFactory grains, string poolId, string? preferred = null, string? clientId = null,
        bool withSidecar = true)
    {
        var connection = grains.GetGrain<IConnectionGrain>(NewId("conn"));
        await connection.Register(new ConnectionRegistration(clientId ?? NewId("bank"), poolId, preferred,
            SidecarId: withSidecar ? NewId("sidecar") : null));
        return connection;
    }

    /// <summary>A heartbeat of an older sidecar: it says nothing of its link.</summary>
    public static Heartbeat GoodHeartbeat() => new(EchoRttMs: 20, ErrorCount: 0, TimeoutCount: 0, SentAt: DateTimeOffset.UtcNow);

    /// <summary>A healthy heartbeat saying the link is signed on at <paramref name="address"/>.</summary>
    public static Heartbeat SignedOnAt(string address) => GoodHeartbeat() with { Link = new LinkObservation(ObservedLinkState.SignedOn, address) };

    /// <summary>A heartbeat saying the link is not signed on anywhere (reconnecting).</summary>
    public static Heartbeat Reconnecting() => GoodHeartbeat() with { Link = new LinkObservation(ObservedLinkState.Connecting, null) };

    /// <summary>
    /// Plays the gateway's side of an attached sidecar stream: attaches to the connection's outbox and polls it as the
    /// gateway does, so the sidecar counts as attached (silent or not) until disposed.
    /// </summary>
    public static async Task<IAsyncDisposable> AttachSidecarAsync(IClusterClient client, IConnectionGrain connection) =>
        await AttachSidecarAsync(client, (await connection.GetState()).SidecarId!);

    /// <summary>The same for a sidecar by id (a standby client, which carries no connection yet).</summary>
    public static async Task<IAsyncDisposable> AttachSidecarAsync(IClusterClient client, string sidecarId)
    {
        var outbox = client.GetGrain<ISidecarOutboxGrain>(sidecarId);
        var attachment = await outbox.Attach(0, client.CreateObjectReference<ISidecarCommandObserver>(new SilentDoorbell()));
        return new AttachedStream(outbox, attachment.Epoch);
    }

    private sealed class SilentDoorbell : ISidecarCommandObserver
    {
        public Task CommandsAvailable(long upToSequence) => Task.CompletedTask;
    }

    private sealed class AttachedStream : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _polling;
        private readonly ISidecarOutboxGrain _outbox;
        private readonly long _epoch;

        public AttachedStream(ISidecarOutboxGrain outbox, long epoch)
        {
            (_outbox, _epoch) = (outbox, epoch);
            _polling = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try { await outbox.Pull(epoch, long.MaxValue); } catch (Exception) { /* a silo dying: the next poll */ }
                    try { await Task.Delay(1000, _stop.Token); } catch (OperationCanceledException) { }
                }
            });
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _polling;
            await _outbox.Detach(_epoch);
        }
    }

    /// <summary>The move command waiting in the connection's sidecar outbox (the newest one).</summary>
    public static async Task<PendingCommand> PendingMoveAsync(IGrainFactory grains, IConnectionGrain connection)
    {
        var state = await connection.GetState();
        var pending = await grains.GetGrain<ISidecarOutboxGrain>(state.SidecarId!).GetPending();
        return pending.Last(p => p.Command.MovesLink && p.Command.ConnectionId == state.ConnectionId);
    }

    /// <summary>Plays the sidecar: carries out the pending move and acknowledges it signed on at the target.</summary>
    public static async Task<SidecarCommand> SignOnAtTargetAsync(IGrainFactory grains, IConnectionGrain connection)
    {
        var pending = await PendingMoveAsync(grains, connection);
        var state = await connection.GetState();
        var acked = await grains.GetGrain<ISidecarOutboxGrain>(state.SidecarId!).Ack(pending.Sequence);
        await connection.CompleteCommand(new CommandReceipt(acked!.CommandId, true, "signed on", acked.TargetServerAddress));
        return acked;
    }

    public static Heartbeat BadHeartbeat() => new(EchoRttMs: 900, ErrorCount: 3, TimeoutCount: 2, SentAt: DateTimeOffset.UtcNow);

    public static async Task<IConnectionGrain> ActiveAsync(IGrainFactory grains, string poolId, string? preferred = null)
    {
        var connection = await RegisterAsync(grains, poolId, preferred);
        var state = await connection.GetState();
        await connection.RecordHeartbeat(SignedOnAt(state.ServerAddress!));
        return connection;
    }
}
