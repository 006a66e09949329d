using System.Diagnostics;
using System.Net.Http.Json;
using OrleansControl.Benchmarks.Failover.DataPath;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Benchmarks.Failover;

/// <summary>
/// What users get in <c>silo-death --sidecar-failover</c>: every link sends 0200s at a steady rate (each outcome
/// recorded, <see cref="AuthorizationLoad"/>), and the registry is read from a survivor's REST every 20 ms and
/// compared with the server each link is really signed on at. From the kill: (b1) per link, the first approval of a
/// 0200 sent after it by a server other than the killed one; (b2) per connection, the first read that showed it ACTIVE
/// at the server its link is on (not the killed one), and the last read that still showed it ACTIVE at the killed one.
/// </summary>
internal sealed class SiloDeathTraffic(IReadOnlyList<(IsoClient Link, string ConnectionId)> links, IReadOnlyDictionary<string, string> serverIdOf,
    string killedServerId, int perSecond)
{
    private readonly AuthorizationLoad[] _loads = [.. links.Select(l => new AuthorizationLoad(l.Link, MessageSpec.BuiltIn(IsoWire.DefaultSpec), perSecond))];
    private readonly long?[] _registryRight = new long?[links.Count];
    private readonly long?[] _registryStaleUntil = new long?[links.Count];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private long _killedAt;
    private int[] _sentBeforeKill = [];

    public void Start()
    {
        foreach (var load in _loads)
            _running.Add(Task.Run(() => load.RunAsync(_stop.Token)));
    }

    /// <summary>The kill's Stopwatch timestamp; the registry is watched from here.</summary>
    public void Killed(long at, HttpClient http, string survivorRest)
    {
        _killedAt = at;
        _sentBeforeKill = [.. _loads.Select(l => l.Count)];
        _running.Add(Task.Run(() => WatchAsync(http, survivorRest, _stop.Token)));
    }

    /// <summary>Every link had an approval after the kill, and the registry was right about every one.</summary>
    public bool Recovered => _loads.All(l => FirstApproval(l) is not null) && _registryRight.All(r => r is not null);

    /// <summary>Stops sending and watching, and waits for every transaction sent to end (each does within its timeout).</summary>
    public async Task StopAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        await _stop.CancelAsync();
        await Task.WhenAll(_running);
        await Task.WhenAll(_loads.Select(l => l.DrainAsync(TimeSpan.FromSeconds(12))));
    }

    public double[] FirstApprovalMs => [.. _loads.Select(l => Ms(FirstApproval(l)?.EndedAt))];

    public double[] RegistryRightMs => [.. _registryRight.Select(Ms)];

    /// <summary>Per connection, the last read after the kill that still said ACTIVE at the killed server (0: none did).</summary>
    public double[] RegistryStaleMs => [.. _registryStaleUntil.Select(t => t is null ? 0 : Ms(t))];

    /// <summary>Transactions whose outcome is not definite (fate unknown, or not ended), in flight at the kill / sent after it.</summary>
    public (int AtKill, int After, int Total) Indefinite
    {
        get
        {
            var (atKill, after, total) = (0, 0, 0);
            for (var i = 0; i < _loads.Length; i++)
            {
                var all = _loads[i].Since(0);
                for (var j = 0; j < all.Length; j++)
                {
                    if (all[j].Outcome is TxnOutcome.Approved or TxnOutcome.Declined or TxnOutcome.NotSent)
                        continue;
                    total++;
                    if (j < _sentBeforeKill[i]) atKill++; else after++;
                }
            }
            return (atKill, after, total);
        }
    }

    /// <summary>Counts by outcome of the transactions sent after the kill, all links.</summary>
    public string OutcomesAfterKill => string.Join(", ", _loads.SelectMany((l, i) => l.Since(_sentBeforeKill[i]))
        .GroupBy(t => t.Outcome).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"));

    private Txn? FirstApproval(AuthorizationLoad load) =>
        load.Since(_sentBeforeKill[Array.IndexOf(_loads, load)])
            .Where(t => t.Outcome == TxnOutcome.Approved && t.Server != killedServerId)
            .MinBy(t => t.EndedAt);

    /// <summary>One loop per connection: a read that waits (a grain on the dead silo) holds up only its own connection.</summary>
    private Task WatchAsync(HttpClient http, string rest, CancellationToken ct) => Task.WhenAll(links.Select(async (l, i) =>
    {
        while (!ct.IsCancellationRequested)
        {
            var before = l.Link.SignedOnAt;
            var (status, server) = await RegistryAsync(http, rest, l.ConnectionId, ct);
            var after = l.Link.SignedOnAt;
            var at = Stopwatch.GetTimestamp();
            if (status == "ACTIVE" && server == killedServerId)
                _registryStaleUntil[i] = at;
            else if (status == "ACTIVE" && _registryRight[i] is null && server is not null && ServerOf(before) == server && ServerOf(after) == server)
                _registryRight[i] = at;
            try
            {
                await Task.Delay(20, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }));

    private string? ServerOf(string? address) => address is not null && serverIdOf.TryGetValue(address, out var id) ? id : null;

    private static async Task<(string? Status, string? Server)> RegistryAsync(HttpClient http, string rest, string connectionId, CancellationToken ct)
    {
        try
        {
            var entry = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"{rest}/api/v1/connections/{connectionId}", ct);
            return (entry.GetProperty("status").GetString()?.Replace("CONNECTION_STATUS_", ""), entry.GetProperty("serverId").GetString());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            return (null, null); // no observation
        }
    }

    private double Ms(long? at) => at is { } t ? (t - _killedAt) * 1000.0 / Stopwatch.Frequency : double.NaN;
}
