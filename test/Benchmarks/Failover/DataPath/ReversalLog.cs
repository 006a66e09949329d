using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OrleansControl.Sidecar.Client;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>
/// The link's logger, kept for what each reversal became, by journal id (Stopwatch timestamps): the link logs
/// "reversal #id queued" (event 20, Sidecar/Log.cs) before it tells the application the fate is unknown,
/// "acknowledged" (22) when the 0430 ended it and "given up" (23); and "late response to a reversed request" (24).
/// The totals come from <see cref="IsoClient.Reversals"/>; this tells which of the unknown-fate 0200s were settled.
/// </summary>
internal sealed class ReversalLog : ILogger<IsoClient>
{
    private const int Queued = 20, Acknowledged = 22, GivenUp = 23, LateResponse = 24;
    private readonly Dictionary<long, long> _queued = [];
    private readonly Dictionary<long, long> _acknowledged = [];
    private readonly Dictionary<long, long> _givenUp = [];
    private readonly List<long> _late = [];
    private readonly Lock _lock = new();
    private long _unreadable;

    /// <summary>Reversal log events without an Id (Sidecar/Log.cs changed and this harness did not): the report fails on any.</summary>
    public long Unreadable => Interlocked.Read(ref _unreadable);

    /// <summary>When reversal <paramref name="id"/> was acknowledged (a 0430 ended it), or null.</summary>
    public long? AcknowledgedAt(long id)
    {
        lock (_lock) return _acknowledged.TryGetValue(id, out var at) ? at : null;
    }

    /// <summary>When reversal <paramref name="id"/> was queued (journaled; the application is told "fate unknown" right after), or null.</summary>
    public long? QueuedAt(long id)
    {
        lock (_lock) return _queued.TryGetValue(id, out var at) ? at : null;
    }

    public bool WasGivenUp(long id)
    {
        lock (_lock) return _givenUp.ContainsKey(id);
    }

    /// <summary>True when every id is acknowledged or given up (ended, one way or the other).</summary>
    public bool AllEnded(IEnumerable<long> ids)
    {
        lock (_lock) return ids.All(id => _acknowledged.ContainsKey(id) || _givenUp.ContainsKey(id));
    }

    /// <summary>Late responses to reversed originals logged in [from, to).</summary>
    public int LateBetween(long from, long to)
    {
        lock (_lock) return _late.Count(at => at >= from && at < to);
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var at = Stopwatch.GetTimestamp();
        if (eventId.Id == LateResponse)
        {
            lock (_lock) _late.Add(at);
            return;
        }
        var into = eventId.Id switch { Queued => _queued, Acknowledged => _acknowledged, GivenUp => _givenUp, _ => null };
        if (into is null || state is not IReadOnlyList<KeyValuePair<string, object?>> fields)
            return;
        foreach (var (name, value) in fields)
        {
            if (name == "Id" && value is long id)
            {
                lock (_lock) into.TryAdd(id, at);
                return;
            }
        }
        Interlocked.Increment(ref _unreadable); // never throw into the link: say so in the report instead
    }

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
}
