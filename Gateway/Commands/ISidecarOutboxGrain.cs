using Orleans.Concurrency;

namespace OrleansControl.Gateway.Commands;

/// <summary>
/// The commands waiting for one sidecar (key: sidecar id), persisted so that a stream that drops and resumes —
/// on this gateway or another — gets every unacknowledged command exactly once. Acks are cumulative by sequence.
/// </summary>
[Alias("oc.gw.ISidecarOutboxGrain")]
public interface ISidecarOutboxGrain : IGrainWithStringKey
{
    /// <summary>Adds a command (ignored if its id was seen before) and signals the attached stream. Returns its sequence.</summary>
    [Alias("Enqueue")]
    Task<long> Enqueue(SidecarCommand command);

    /// <summary>A stream attaches: everything up to <paramref name="lastAckedSequence"/> counts as acknowledged.</summary>
    [Alias("Attach")]
    Task<OutboxAttachment> Attach(long lastAckedSequence, ISidecarCommandObserver observer);

    /// <summary>Unacknowledged commands after <paramref name="afterSequence"/>; null when <paramref name="epoch"/> was superseded.</summary>
    [Alias("Pull")]
    Task<PendingCommand[]?> Pull(long epoch, long afterSequence);

    [Alias("Ack")]
    Task Ack(long sequence);

    [Alias("Detach")]
    Task Detach(long epoch);
}

/// <summary>The attached stream's doorbell: "commands up to this sequence are waiting".</summary>
[Alias("oc.gw.ISidecarCommandObserver")]
public interface ISidecarCommandObserver : IGrainObserver
{
    [OneWay, Alias("CommandsAvailable")]
    Task CommandsAvailable(long upToSequence);
}
