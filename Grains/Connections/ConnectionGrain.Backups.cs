using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// The sidecar's ranked backups: where it may move on its own when its link is down and this controller cannot answer
/// in time (docs/sidecar.md). Sent through the outbox when the connection becomes Active somewhere and whenever the
/// pool's servers change; an unchanged list is not sent again, and a newer list replaces an older one still pending.
/// </summary>
public sealed partial class ConnectionGrain
{
    private const int BackupCount = 3;

    public Task PoolChanged() => SendBackupsAsync();

    private async Task SendBackupsAsync()
    {
        if (S.SidecarId is not { } sidecar || S.Status is not (ConnectionStatus.Active or ConnectionStatus.Degraded))
            return;
        try
        {
            var ranking = PoolKnownLate ? null : Pool.RankBackups(S.ServerId, BackupCount);
            if (ranking is null || !await AnsweredInTimeAsync(ranking, "RankBackups"))
            {
                S.PoolReconcilePending = true; // ranked again once the pool answers
                return;
            }
            var backups = await ranking;
            var key = string.Join(",", backups.Select(b => $"{b.ServerId}@{b.Address}"));
            if (key == S.BackupsSent)
                return;
            var enqueue = GrainFactory.GetGrain<ISidecarOutboxGrain>(sidecar).Enqueue(new SidecarCommand(
                $"backups-{Guid.NewGuid():N}", SidecarCommandKind.Backups, Id, null, null, Now + TimeSpan.FromHours(1),
                $"backups for a link on {S.ServerId}", backups));
            if (!await FinishedInTimeAsync(enqueue))
            {
                // Not known sent: sent again with the next change (a late one that lands is superseded by it).
                LogCallLate(Id, "Enqueue(backups)", $"sidecar-outbox/{sidecar}", (long)_options.PoolCallDeadline.TotalMilliseconds);
                return;
            }
            await enqueue;
            S.BackupsSent = key;
            _heartbeatDirty = true; // persisted with the next throttled write: a lost one only means a resend
        }
        catch (Exception ex)
        {
            // Best effort: the next change or sign-on sends them again; a failover never waits on this.
            Log.BackupsFailed(logger, ex, Id);
        }
    }
}
