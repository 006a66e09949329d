using Orleans.Streams;

namespace OrleansControl.Streams.Kafka;

/// <summary>
/// A subscriber's guard against redeliveries: at-least-once delivery repeats an event after a silo or receiver
/// restart (everything after the last committed offset is read again). Events whose CloudEvents id was already seen
/// in the last <c>window</c> ids are dropped; tokens from other providers pass through.
/// </summary>
public sealed class DeduplicatingObserver<T>(IAsyncObserver<T> inner, int window = 10_000) : IAsyncObserver<T>
{
    private readonly RecentIds seen = new(window);

    public int Dropped { get; private set; }

    public Task OnNextAsync(T item, StreamSequenceToken? token = null)
    {
        if (token is KafkaEventToken kafka && !seen.Add(kafka.EventId))
        {
            Dropped++;
            return Task.CompletedTask;
        }
        return inner.OnNextAsync(item, token);
    }

    public Task OnCompletedAsync() => inner.OnCompletedAsync();

    public Task OnErrorAsync(Exception ex) => inner.OnErrorAsync(ex);
}

/// <summary>The last N ids seen, oldest forgotten first.</summary>
public sealed class RecentIds(int capacity)
{
    private readonly HashSet<string> ids = new(StringComparer.Ordinal);
    private readonly Queue<string> order = new();

    /// <summary>False when <paramref name="id"/> was already among the recent ids.</summary>
    public bool Add(string id)
    {
        if (capacity <= 0)
            return true;
        if (!ids.Add(id))
            return false;
        order.Enqueue(id);
        if (order.Count > capacity)
            ids.Remove(order.Dequeue());
        return true;
    }
}
