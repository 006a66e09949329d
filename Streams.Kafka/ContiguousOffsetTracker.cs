namespace OrleansControl.Streams.Kafka;

/// <summary>
/// What may be committed for one partition: the offset after the last one that is finished with every offset
/// before it finished too. An offset is finished when every copy handed to Orleans (its own stream, the all-stream)
/// has been delivered, or when it needs no delivery (skipped, duplicate). Committing the highest delivered offset
/// instead would skip an earlier one still in flight, and lose it on restart: this is the rule that prevents that.
/// Offsets are tracked as fetched, so gaps in Kafka's numbering (transaction markers, compaction) do not stall it.
/// Not thread-safe: one receiver's calls are serialized by its pulling agent.
/// </summary>
public sealed class ContiguousOffsetTracker
{
    private readonly Queue<long> fetched = new();
    private readonly Dictionary<long, int> pendingCopies = [];
    private readonly HashSet<(long Offset, int Copy)> finishedCopies = [];

    /// <summary>The next offset to read after a restart (committed = last contiguous finished + 1); null: none yet.</summary>
    public long? Committable { get; private set; }

    public int InFlight => fetched.Count;

    /// <summary>An offset read; <paramref name="copies"/> deliveries must finish (0: already finished).</summary>
    public void Fetched(long offset, int copies)
    {
        fetched.Enqueue(offset);
        if (copies > 0)
            pendingCopies[offset] = copies;
        Advance();
    }

    /// <summary>Copy <paramref name="copy"/> of <paramref name="offset"/> was delivered (or given up). Idempotent.</summary>
    public void Finished(long offset, int copy)
    {
        if (!pendingCopies.TryGetValue(offset, out var left) || !finishedCopies.Add((offset, copy)))
            return;
        if (left == 1)
        {
            pendingCopies.Remove(offset);
            finishedCopies.RemoveWhere(f => f.Offset == offset);
        }
        else
        {
            pendingCopies[offset] = left - 1;
        }
        Advance();
    }

    private void Advance()
    {
        while (fetched.TryPeek(out var head) && !pendingCopies.ContainsKey(head))
        {
            fetched.Dequeue();
            Committable = head + 1;
        }
    }
}
