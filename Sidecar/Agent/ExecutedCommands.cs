namespace OrleansControl.Sidecar.Agent;

/// <summary>The outcome a command ended with, remembered so a resend is answered the same way.</summary>
internal readonly record struct CommandOutcome(bool Success, string Detail);

/// <summary>
/// The last <see cref="Capacity"/> commands carried out, by command id. Whether a command was already executed is
/// decided here and nowhere else: command ids are never reused (also not by a restarted controller), whereas
/// sequences start again at 1 when a controller on in-memory storage restarts.
/// </summary>
internal sealed class ExecutedCommands(int capacity = 256)
{
    private readonly Dictionary<string, CommandOutcome> _outcomes = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _lock = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _outcomes.Count;
            }
        }
    }

    public bool TryGet(string commandId, out CommandOutcome outcome)
    {
        lock (_lock)
        {
            return _outcomes.TryGetValue(commandId, out outcome);
        }
    }

    /// <summary>Remembers an outcome; the oldest one is forgotten once there are more than <see cref="Capacity"/>.</summary>
    public void Remember(string commandId, CommandOutcome outcome)
    {
        lock (_lock)
        {
            if (_outcomes.TryAdd(commandId, outcome))
            {
                _order.Enqueue(commandId);
                while (_order.Count > Capacity)
                {
                    _outcomes.Remove(_order.Dequeue());
                }
            }
        }
    }
}
