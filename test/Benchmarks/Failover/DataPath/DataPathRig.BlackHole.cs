using ConnectionStatus = OrleansControl.GrainInterfaces.Models.ConnectionStatus;

namespace OrleansControl.Benchmarks.Failover.DataPath;

// --scenario blackhole: the server the link is on falls silent in its network namespace. Nothing tells the sidecar:
// the first echo after EchoInterval of silence times out after EchoTimeout, and that miss (make-before-break on
// suspicion) sends new requests to the first backup while the old session is still up.
internal sealed partial class DataPathRig
{
    private async Task<DataPathTrial> BlackHoleTrialAsync(int number)
    {
        var (victim, first, startedAt, reversals) = await ReadyAsync();
        var holeWall = DateTimeOffset.UtcNow;
        var holeAt = victim.BlackHole(); // taken before the tc command: its process start counts against the recovery
        MarkFaulted(victim, holeAt);
        var afterHole = Load.Count;

        var approved = await FirstApprovedElsewhere(afterHole, holeAt, victim);
        await Until(async () => _link.SignedOnAt is { } at && ByAddress(at) != victim && await IsActiveAt(at), "the registry active on the backup");
        // Everything written into the hole ends by its own timeout (the old session is retired meanwhile), and each of
        // them is reversed: the 0420s go on the backup's session (0421 repeats for one written into the hole).
        var settled = await SettleAsync(first, holeAt);

        var state = await Connection.GetState();
        var trial = new DataPathTrial(number, $"black hole {victim.ServerId}", victim.ServerId, approved?.Server ?? state.ServerId, startedAt, holeAt, first)
        {
            FirstApprovedMs = approved is null ? null : DataPathReport.Ms(holeAt, approved.EndedAt),
            Reversals = reversals,
            SettledMs = settled,
            DetectedAt = _events.FirstSuspicionAt(holeAt),
            Steps =
            [
                new("last answer from the black-holed server", LastAnswerFrom(victim, first, holeAt)),
                new("first echo miss (link suspect)", _events.FirstSuspicionAfter(holeAt)),
                new("own move done: signed on at the backup", _moves.FirstMoveAfter(holeAt)),
                new("first approved from the backup", approved is null ? null : DataPathReport.Ms(holeAt, approved.EndedAt)),
                new("registry Degraded", Transition(state, ConnectionStatus.Degraded, holeWall)),
                new("registry Failed", Transition(state, ConnectionStatus.Failed, holeWall)),
                new("registry on the backup (failover recorded)", RegistryMoved(state, holeWall)),
                new("settled: every txn ended, every reversal acknowledged", settled),
            ],
            Note = OwnMoveSince(holeWall) ?? "moved by the controller",
        };

        await victim.RestoreAsync(CancellationToken.None);
        return trial with { Reinstated = await ReinstateAsync(victim) };
    }
}
