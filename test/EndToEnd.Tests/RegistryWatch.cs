using System.Collections.Concurrent;
using OrleansControl.EndToEnd.Tests.Processes;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>One answer of GET /api/v1/connections/{id}, with when it was received.</summary>
internal sealed record Observation(DateTimeOffset At, RegistryEntry? Entry)
{
    public override string ToString() => $"{At:HH:mm:ss.fff} {Entry?.ToString() ?? "not registered"}";
}

/// <summary>
/// An operator refreshing the registry: GET /api/v1/connections/{id} every 50 ms for the whole scenario, every answer
/// kept, so a test can say what the registry ever showed, not only how it ended.
/// </summary>
internal sealed class RegistryWatch : IAsyncDisposable
{
    private readonly ConcurrentQueue<Observation> _seen = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public RegistryWatch(ControllerRest rest, string connectionId) => _loop = Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var entry = await rest.GetConnectionAsync(connectionId);
                _seen.Enqueue(new Observation(DateTimeOffset.UtcNow, entry));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                // The controller is down or restarting: nothing is shown, nothing to record.
            }

            try
            {
                await Task.Delay(50, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    });

    public IReadOnlyList<Observation> Seen => [.. _seen];

    /// <summary>
    /// Fails if the registry showed the connection ACTIVE on a server after that server was killed for longer than
    /// <paramref name="grace"/> (the time the sidecar needs to notice and say so).
    /// </summary>
    public void AssertNeverActiveOnDead(IEnumerable<SchemeServerProcess> servers, TimeSpan grace)
    {
        var seen = Seen;
        foreach (var dead in servers.Where(s => s.KilledAt is not null))
        {
            DateTimeOffset? runStart = null;
            foreach (var o in seen.Where(o => o.At >= dead.KilledAt))
            {
                var activeThere = o.Entry is { Status: "ACTIVE" } e && e.ServerId == dead.ServerId;
                if (!activeThere)
                {
                    runStart = null;
                    continue;
                }

                runStart ??= o.At;
                Assert.True(o.At - runStart <= grace,
                    $"the registry showed ACTIVE on {dead.ServerId} (killed at {dead.KilledAt:HH:mm:ss.fff}) from {runStart:HH:mm:ss.fff} to {o.At:HH:mm:ss.fff}" +
                    $"{Environment.NewLine}{Describe()}");
            }
        }
    }

    /// <summary>Every change of what the registry showed, in order.</summary>
    public string Describe()
    {
        var changes = new List<string>();
        string? previous = null;
        foreach (var o in Seen)
        {
            var now = o.Entry is { } e ? $"{e.Status} {e.ServerId} '{e.StatusDetail}'" : "not registered";
            if (now != previous)
            {
                changes.Add(o.ToString());
                previous = now;
            }
        }

        return $"registry changes ({Seen.Count} observations):{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", changes)}";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
