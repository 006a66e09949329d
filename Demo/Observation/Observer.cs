using OrleansControl.Demo.Processes;

namespace OrleansControl.Demo.Observation;

/// <summary>
/// Polls the controllers' REST APIs (the bank's registry, the scheme's pool and, in two regions, its replica of each
/// bank connection) and every sidecar's /control/status every 100 ms, and keeps
/// the latest <see cref="Snapshot"/>. The timeline is derived from these snapshots and the bank clients' reports, so
/// its times are accurate to about 100 ms.
/// </summary>
internal sealed class Observer(Installation installation)
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private volatile Snapshot _latest = Snapshot.Empty;

    public Snapshot Latest => _latest;

    /// <summary>Called with each new snapshot, on the polling task.</summary>
    public event Action<Snapshot>? Observed;

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Period);
        do
        {
            var snapshot = await TakeAsync(ct);
            _latest = snapshot;
            Observed?.Invoke(snapshot);
        }
        while (await timer.WaitForNextTickAsync(ct));
    }

    private async Task<Snapshot> TakeAsync(CancellationToken ct)
    {
        var regions = installation.Regions;
        var registry = Try(() => regions.Bank.Rest.ListConnectionsAsync(ct));
        var pool = Try(() => regions.Scheme.Rest.ListServersAsync(Installation.Pool, ct));
        var sidecars = installation.Banks.Select(b => (b.Sidecar.SidecarId, Status: Try(() => b.Sidecar.StatusAsync(ct)))).ToList();
        var replica = regions.Two
            ? installation.Banks.Select(b => (b.ConnectionId, Entry: Try(() => regions.Scheme.Rest.GetConnectionAsync(b.ConnectionId, ct)))).ToList()
            : null;
        await Task.WhenAll(sidecars.Select(s => (Task)s.Status).Concat(replica?.Select(r => (Task)r.Entry) ?? []).Append(registry).Append(pool));
        return new Snapshot(installation.Clock.Now,
            (await registry)?.ToDictionary(e => e.ConnectionId),
            await pool,
            sidecars.ToDictionary(s => s.SidecarId, s => s.Status.Result),
            replica?.ToDictionary(r => r.ConnectionId, r => r.Entry.Result));
    }

    private static async Task<T?> Try<T>(Func<Task<T>> call) where T : class?
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null; // not answering: killed, restarting, or black-holed
        }
    }
}
