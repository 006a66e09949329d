using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OrleansControl.Streams.Tests.Infrastructure;

/// <summary>Keeps every log line, to count what an outage logs.</summary>
public sealed class ListLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<(LogLevel Level, int EventId, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new ListLogger(Lines);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class ListLogger(ConcurrentQueue<(LogLevel, int, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
    }
}
