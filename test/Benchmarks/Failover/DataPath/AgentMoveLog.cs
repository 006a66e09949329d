using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OrleansControl.Sidecar.Agent;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>
/// The agent's logger, kept for one thing: when each of the sidecar's own moves was done (Stopwatch timestamps). The
/// agent logs "moved the link on its own" (event 17, Sidecar/Log.cs) as soon as the switch to the backup returned,
/// with the new session signed on and taking requests: a better clock than sampling the link on a busy machine.
/// </summary>
internal sealed class AgentMoveLog : ILogger<SidecarAgent>
{
    private const int MovedOnOwn = 17;
    private readonly List<long> _moves = [];
    private readonly Lock _lock = new();

    /// <summary>ms from <paramref name="since"/> to the first own move done after it, or null.</summary>
    public double? FirstMoveAfter(long since)
    {
        lock (_lock)
            return _moves.Where(at => at >= since).Select(at => (double?)DataPathReport.Ms(since, at)).FirstOrDefault();
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id != MovedOnOwn)
            return;
        var at = Stopwatch.GetTimestamp();
        lock (_lock) _moves.Add(at);
    }

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
}
