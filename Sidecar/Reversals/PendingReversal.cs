using OrleansControl.Codec;
using OrleansControl.Sidecar.Matching;

namespace OrleansControl.Sidecar.Reversals;

/// <summary>One reversal to send. <see cref="Attempts"/> and <see cref="NextAt"/> are the send loop's alone.</summary>
internal sealed class PendingReversal(long id, DateTimeOffset queuedAt, MatchKey originalKey, IsoMessage message, MatchKeyPolicy keys)
{
    public long Id { get; } = id;

    public DateTimeOffset QueuedAt { get; } = queuedAt;

    public MatchKey OriginalKey { get; } = originalKey;

    public IsoMessage Message { get; } = message;

    /// <summary>What its 0430 matches on (the repeat bit does not change it).</summary>
    public MatchKey Key { get; } = keys.KeyOf(message);

    public int Attempts { get; set; }

    public DateTimeOffset NextAt { get; set; } = DateTimeOffset.MinValue;

    public TaskCompletionSource<IsoMessage> Acknowledged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
