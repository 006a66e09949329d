using OrleansControl.Sidecar.Matching;

namespace OrleansControl.Sidecar.Reversals;

/// <summary>
/// The match keys of originals whose reversal is queued, in progress, or ended within the late-response window, so a
/// response to one (a late 0210) is recognised and never delivered as an answer. A key is reserved before its request
/// leaves the matcher (a response racing the timeout finds it), and released if the response won after all.
/// Bounded: past <see cref="Capacity"/> keys the ones that left their window first are forgotten.
/// </summary>
internal sealed class ReversedOriginals(TimeSpan window, TimeProvider time)
{
    public const int Capacity = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<MatchKey, Entry> _keys = [];

    /// <summary>Reserves <paramref name="key"/> for <paramref name="owner"/> (the pending request) until it is confirmed or released.</summary>
    public void Reserve(MatchKey key, object owner)
    {
        lock (_lock)
        {
            _keys[key] = new Entry(owner, DateTimeOffset.MaxValue);
            if (_keys.Count > Capacity)
            {
                Prune();
            }
        }
    }

    public void Release(MatchKey key, object owner)
    {
        lock (_lock)
        {
            if (_keys.TryGetValue(key, out var entry) && ReferenceEquals(entry.Owner, owner))
            {
                _keys.Remove(key);
            }
        }
    }

    /// <summary>A key whose reversal is live (queued or being sent): recognised until it ends.</summary>
    public void Live(MatchKey key) => Reserve(key, this);

    /// <summary>The reversal for <paramref name="key"/> ended: the key is still recognised for the window.</summary>
    public void Ended(MatchKey key)
    {
        lock (_lock)
        {
            _keys[key] = new Entry(this, time.GetUtcNow() + window);
        }
    }

    /// <summary>True when a response with this key answers an original that was (or is being) reversed.</summary>
    public bool Contains(MatchKey key)
    {
        lock (_lock)
        {
            if (!_keys.TryGetValue(key, out var entry))
            {
                return false;
            }

            if (entry.Until > time.GetUtcNow())
            {
                return true;
            }

            _keys.Remove(key);
            return false;
        }
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (key, entry) in _keys.Where(k => k.Value.Until <= now).ToList())
        {
            _keys.Remove(key);
        }

        // Still over: forget the ones whose window ends soonest (live ones, with no end, are kept).
        var excess = _keys.Count - Capacity;
        foreach (var (key, _) in excess > 0 ? _keys.Where(k => k.Value.Until != DateTimeOffset.MaxValue).OrderBy(k => k.Value.Until).Take(excess).ToList() : [])
        {
            _keys.Remove(key);
        }
    }

    private readonly record struct Entry(object Owner, DateTimeOffset Until);
}
