using Orleans.Concurrency;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// The commands waiting for one sidecar (key: sidecar id), persisted so that a stream that drops and resumes, on
/// this gateway or another, gets every unacknowledged command exactly once. Connection grains enqueue (awaited:
/// a command is persisted before the failover that needs it is reported as started). A stream's ack drops its own
/// command only (an earlier one whose ack failed on the way stays pending); the attach's last acknowledged sequence is
/// cumulative. The gateway hands the receipt of a command that moves a link to its connection grain as evidence (the
/// outbox does not call connection grains: they call it, and two non-reentrant grains waiting on each other deadlock).
/// </summary>
[Alias("oc.gw.ISidecarOutboxGrain")]
public interface ISidecarOutboxGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds a command (ignored if its id was seen before) and signals the attached stream. A command that moves a link
    /// drops any older unacknowledged move of the same connection: only the newest target matters. Returns its sequence.
    /// </summary>
    [Alias("Enqueue")]
    Task<long> Enqueue(SidecarCommand command);

    /// <summary>A stream attaches: everything up to <paramref name="lastAckedSequence"/> counts as acknowledged.</summary>
    [Alias("Attach")]
    Task<OutboxAttachment> Attach(long lastAckedSequence, ISidecarCommandObserver observer);

    /// <summary>Unacknowledged commands after <paramref name="afterSequence"/>; null when <paramref name="epoch"/> was superseded.</summary>
    [Alias("Pull")]
    Task<PendingCommand[]?> Pull(long epoch, long afterSequence);

    /// <summary>
    /// As <see cref="Pull"/>, after a call of the stream failed: this activation may be a new one (the old one's silo
    /// died) that does not know the stream's observer, so it takes it again (if <paramref name="epoch"/> is current).
    /// </summary>
    [Alias("Resume")]
    Task<PendingCommand[]?> Resume(long epoch, long afterSequence, ISidecarCommandObserver observer);

    /// <summary>
    /// The sidecar's receipt of command <paramref name="sequence"/> reached its connection: that command (only) is
    /// dropped. Returns it if it was still pending; acknowledging it again changes nothing.
    /// </summary>
    [Alias("Ack")]
    Task<SidecarCommand?> Ack(long sequence);

    [Alias("Detach")]
    Task Detach(long epoch);

    /// <summary>
    /// Drops a command that is no longer wanted (its move ended another way) if the sidecar has not acknowledged it: a
    /// sidecar that re-attaches gets current intent, not history. Returns whether it was still pending.
    /// </summary>
    [Alias("Cancel")]
    Task<bool> Cancel(string commandId);

    [ReadOnly, Alias("GetPending")]
    Task<PendingCommand[]> GetPending();

    /// <summary>
    /// Whether a stream of this sidecar is attached to a gateway now: attached, not detached, and its poll (every 2 s)
    /// seen within the last few seconds, so a gateway that died without a word does not count.
    /// </summary>
    [ReadOnly, Alias("IsAttached")]
    Task<bool> IsAttached();
}

/// <summary>The attached stream's doorbell: "commands up to this sequence are waiting".</summary>
[Alias("oc.gw.ISidecarCommandObserver")]
public interface ISidecarCommandObserver : IGrainObserver
{
    [OneWay, Alias("CommandsAvailable")]
    Task CommandsAvailable(long upToSequence);
}
