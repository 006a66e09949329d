using Microsoft.Extensions.Logging;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Sidecars;

[GenerateSerializer, Alias("oc.gw.SidecarOutboxState")]
public sealed class SidecarOutboxState
{
    [Id(0)] public long NextSequence { get; set; } = 1;
    [Id(1)] public long AckedSequence { get; set; }
    [Id(2)] public List<PendingCommand> Pending { get; set; } = [];
    /// <summary>Recent command ids, for de-duplication (bounded).</summary>
    [Id(3)] public List<string> RecentIds { get; set; } = [];
    /// <summary>Drawn when this state was first written: a lost state (a restart on memory) means a new incarnation.</summary>
    [Id(4)] public string Incarnation { get; set; } = "";
    /// <summary>The attached stream's epoch, persisted: a reactivated outbox must not take a healthy stream for a stale one.</summary>
    [Id(5)] public long Epoch { get; set; }
}

/// <inheritdoc cref="ISidecarOutboxGrain"/>
internal sealed partial class SidecarOutboxGrain(
    [PersistentState("sidecarOutbox", ControllerStorage.Name)] IPersistentState<SidecarOutboxState> state,
    ILogger<SidecarOutboxGrain> logger) : Grain, ISidecarOutboxGrain
{
    private const int MaxRecentIds = 1024;
    /// <summary>The attached stream polls every 2 s; three missed polls and it no longer counts as attached.</summary>
    private static readonly TimeSpan AttachLease = TimeSpan.FromSeconds(6);
    private ISidecarCommandObserver? _observer;
    private DateTimeOffset _lastSeen;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Incarnation.Length == 0)
        {
            state.State.Incarnation = Guid.NewGuid().ToString("N");
            await state.WriteStateAsync(cancellationToken);
        }
        // Where it lives: with its silo dead, no command reaches this sidecar until membership declares the death.
        LogActivated(this.GetPrimaryKeyString(), RuntimeIdentity, state.State.AckedSequence, state.State.Pending.Count);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        LogDeactivated(this.GetPrimaryKeyString(), RuntimeIdentity, reason.ReasonCode, reason.Description);
        return Task.CompletedTask;
    }

    public async Task<long> Enqueue(SidecarCommand command)
    {
        // The decision's trace (Orleans' activity propagation brings it into this call) rides with the command.
        command = command.TraceParent is null && System.Diagnostics.Activity.Current is { } current ? command with { TraceParent = current.Id } : command;
        var s = state.State;
        if (s.RecentIds.Contains(command.CommandId))
        {
            return s.Pending.FirstOrDefault(p => p.Command.CommandId == command.CommandId)?.Sequence ?? 0;
        }
        // Only the newest move (and list of backups) of a connection matters: an older move still pending would pull
        // the link back.
        var superseded = s.Pending.RemoveAll(p => p.Command.IsSupersededBy(command));
        var pending = new PendingCommand(s.NextSequence++, command);
        s.Pending.Add(pending);
        s.RecentIds.Add(command.CommandId);
        if (s.RecentIds.Count > MaxRecentIds) s.RecentIds.RemoveRange(0, s.RecentIds.Count - MaxRecentIds);
        await state.WriteStateAsync();
        LogEnqueued(this.GetPrimaryKeyString(), command.CommandId, command.Kind, pending.Sequence, superseded);
        Ring(pending.Sequence);
        return pending.Sequence;
    }

    public async Task<OutboxAttachment> Attach(long lastAckedSequence, ISidecarCommandObserver observer)
    {
        state.State.Epoch++;
        _observer = observer;
        _lastSeen = DateTimeOffset.UtcNow;
        if (lastAckedSequence > state.State.AckedSequence) await AckCore(lastAckedSequence);
        else await state.WriteStateAsync();
        return new OutboxAttachment(state.State.Epoch, state.State.AckedSequence, [.. state.State.Pending], state.State.Incarnation);
    }

    public Task<PendingCommand[]?> Pull(long epoch, long afterSequence)
    {
        if (epoch != state.State.Epoch)
            return Task.FromResult<PendingCommand[]?>(null);
        _lastSeen = DateTimeOffset.UtcNow; // a reactivated outbox learns from the next poll that the stream is there
        return Task.FromResult<PendingCommand[]?>(state.State.Pending.Where(p => p.Sequence > afterSequence).ToArray());
    }

    public Task<PendingCommand[]?> Resume(long epoch, long afterSequence, ISidecarCommandObserver observer)
    {
        if (epoch == state.State.Epoch)
            _observer = observer; // a reactivated outbox rings the stream's doorbell again
        return Pull(epoch, afterSequence);
    }

    public async Task<SidecarCommand?> Ack(long sequence)
    {
        // This command only: an earlier one whose ack failed on the way stays pending, so the sidecar's resend (or the
        // outbox's, after a re-attach) can still bring its receipt.
        var s = state.State;
        var acked = s.Pending.Find(p => p.Sequence == sequence);
        if (acked is null) return null;
        s.Pending.Remove(acked);
        s.AckedSequence = Floor(s);
        await state.WriteStateAsync();
        return acked.Command;
    }

    public Task Detach(long epoch)
    {
        if (epoch == state.State.Epoch)
        {
            _observer = null;
            _lastSeen = default;
        }
        return Task.CompletedTask;
    }

    public Task<bool> IsAttached() => Task.FromResult(DateTimeOffset.UtcNow - _lastSeen < AttachLease);

    public Task<PendingCommand[]> GetPending() => Task.FromResult(state.State.Pending.ToArray());

    public async Task<bool> Cancel(string commandId)
    {
        if (state.State.Pending.RemoveAll(p => p.Command.CommandId == commandId) == 0)
            return false;
        await state.WriteStateAsync();
        return true;
    }

    private async Task AckCore(long sequence)
    {
        // A sidecar cannot acknowledge what was never issued.
        var s = state.State;
        s.Pending.RemoveAll(p => p.Sequence <= sequence);
        s.AckedSequence = Floor(s);
        await state.WriteStateAsync();
    }

    /// <summary>The highest sequence with nothing pending at or below it (a sidecar cannot acknowledge what was never issued).</summary>
    private static long Floor(SidecarOutboxState s) => Math.Max(s.AckedSequence, (s.Pending.Count == 0 ? s.NextSequence : s.Pending.Min(p => p.Sequence)) - 1);

    private void Ring(long upTo)
    {
        var observer = _observer;
        if (observer is null) return;
        try
        {
            // One-way: a dead gateway must not block the outbox; the stream also polls.
            _ = observer.CommandsAvailable(upTo);
        }
        catch (Exception e)
        {
            LogRingFailed(e, this.GetPrimaryKeyString());
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sidecar {SidecarId}: command {CommandId} ({Kind}) queued as #{Sequence} ({Superseded} older moves dropped)")]
    private partial void LogEnqueued(string sidecarId, string commandId, SidecarCommandKind kind, long sequence, int superseded);

    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Sidecar {SidecarId}: outbox activated on silo {Silo}, acked through #{Acked}, {Pending} pending")]
    private partial void LogActivated(string sidecarId, string silo, long acked, int pending);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Sidecar {SidecarId}: outbox deactivated on silo {Silo}: {ReasonCode} ({ReasonText})")]
    private partial void LogDeactivated(string sidecarId, string silo, DeactivationReasonCode reasonCode, string reasonText);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sidecar {SidecarId}: could not signal the attached stream")]
    private partial void LogRingFailed(Exception e, string sidecarId);
}
