using OrleansControl.Demo.Processes;

namespace OrleansControl.Demo.Observation;

/// <summary>
/// Polls the controller's REST API (registry and pool) and every sidecar's /control/status every 100 ms, and keeps
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
        var rest = installation.Controller.Rest;
        var registry = Try(() => rest.ListConnectionsAsync(ct));
        var pool = Try(() => rest.ListServersAsync(Installation.Pool, ct));
        var sidecars = installation.Banks.Select(b => (b.Sidecar.SidecarId, Status: Try(() => b.Sidecar.StatusAsync(ct)))).ToList();
        await Task.WhenAll(sidecars.Select(s => (Task)s.Status).Append(registry).Append(pool));
        return new Snapshot(installation.Clock.Now,
            (await registry)?.ToDictionary(e => e.ConnectionId),
            await pool,
            sidecars.ToDictionary(s => s.SidecarId, s => s.Status.Result));
    }

    private static async Task<T?> Try<T>(Func<Task<T>> call) where T : class
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
