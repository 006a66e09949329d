using System.Collections.Concurrent;
using System.Diagnostics;
using OrleansControl.Sidecar.Client;

namespace OrleansControl.Sidecar.Tests.Support;

/// <summary>Authorizations every 20 ms, each with a short timeout; records when each server first and last approved one.</summary>
internal sealed class Traffic : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, long> _first = new();
    private readonly ConcurrentDictionary<string, long> _last = new();
    private readonly Task _loop;

    public Traffic(IsoClient link, TimeSpan? timeout = null) => _loop = RunAsync(link, timeout ?? TimeSpan.FromSeconds(1));

    /// <summary>Stopwatch timestamp of the first approval from <paramref name="server"/> (field 44), if any.</summary>
    public long? FirstFrom(string server) => _first.TryGetValue(server, out var at) ? at : null;

    /// <summary>Stopwatch timestamp of the latest approval from <paramref name="server"/>, if any.</summary>
    public long? LastFrom(string server) => _last.TryGetValue(server, out var at) ? at : null;

    private async Task RunAsync(IsoClient link, TimeSpan timeout)
    {
        while (!_stop.IsCancellationRequested)
        {
            _ = SendOneAsync(link, timeout);
            try
            {
                await Task.Delay(20, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task SendOneAsync(IsoClient link, TimeSpan timeout)
    {
        try
        {
            var response = await link.SendAsync(Scheme.Authorization(link.NextStan()), timeout);
            if (response.GetString(39) == "00" && response.GetString(44) is { } server)
            {
                var now = Stopwatch.GetTimestamp();
                _first.TryAdd(server, now);
                _last[server] = now;
            }
        }
        catch (SidecarException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(2));
        _stop.Dispose();
    }
}
