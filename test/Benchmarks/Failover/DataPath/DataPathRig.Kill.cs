using OrleansControl.Sidecar.Health;
using ConnectionStatus = OrleansControl.GrainInterfaces.Models.ConnectionStatus;

namespace OrleansControl.Benchmarks.Failover.DataPath;

// --scenario kill: kill -9 of the server the link is on, the controller up.
internal sealed partial class DataPathRig
{
    private async Task<DataPathTrial> KillTrialAsync(int number)
    {
        var (victim, first, startedAt, reversals) = await ReadyAsync();
        var killWall = DateTimeOffset.UtcNow;
        var killAt = victim.Kill();
        MarkFaulted(victim, killAt);
        var afterKill = Load.Count;
        await victim.WaitForExitAsync();

        var approved = await FirstApprovedElsewhere(afterKill, killAt, victim);
        await Until(async () => _link.SignedOnAt is { } at && ByAddress(at) != victim && await IsActiveAt(at), "the registry active on the backup");
        // The transactions sent around the failover end (each within its timeout), the unknown-fate ones reversed.
        var settled = await SettleAsync(first, killAt);

        var state = await Connection.GetState();
        var trial = new DataPathTrial(number, $"kill -9 {victim.ServerId}", victim.ServerId, approved?.Server ?? state.ServerId, startedAt, killAt, first)
        {
            FirstApprovedMs = approved is null ? null : DataPathReport.Ms(killAt, approved.EndedAt),
            Reversals = reversals,
            SettledMs = settled,
            Steps =
            [
                new("sidecar sees the link down", _events.FirstAfter(killAt, e => e.Current == ConnectionState.Down)),
                new("registry Failed", Transition(state, ConnectionStatus.Failed, killWall)),
                new("registry Migrating (command queued)", Transition(state, ConnectionStatus.Migrating, killWall)),
                // The controller's command (or, a second later, the sidecar's own decision) sends the link to the backup.
                new("link connecting to the backup", _events.FirstAfter(killAt, e => e.Current == ConnectionState.Connecting && Same(state.ServerAddress ?? "", e.Endpoint))),
                new("link signed on at the backup", _events.FirstAfter(killAt, e => e.Current == ConnectionState.SignedOn)),
                new("registry Active on the backup", Transition(state, ConnectionStatus.Active, killWall)),
                new("first approved from the backup", approved is null ? null : DataPathReport.Ms(killAt, approved.EndedAt)),
                new("settled: every txn ended, every reversal acknowledged", settled),
            ],
            Note = OwnMoveSince(killWall) ?? "moved by the controller",
        };

        await victim.StartAsync(CancellationToken.None);
        return trial with { Reinstated = await ReinstateAsync(victim) };
    }

    /// <summary>"own move (cause)" when the sidecar moved on its own decision since <paramref name="since"/>, else null.</summary>
    private string? OwnMoveSince(DateTimeOffset since) =>
        _agent.Status().LastOwnMove is { } own && own.At >= since ? $"own move ({own.Cause}) to {ByAddress(own.To)?.ServerId ?? own.To}" : null;
}
