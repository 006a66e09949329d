using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansControl.Demo.Processes;

/// <summary>One registry entry, from GET /api/v1/connections, with the status without its enum prefix (ACTIVE, …).</summary>
internal sealed record RegistryEntry(string ConnectionId, string Status, string? ServerId, string? ServerAddress,
    string StatusDetail, string? SidecarId, string? Region, long Version, string? Incarnation = null);

/// <summary>One server of a pool, from GET /api/v1/pools/{pool}/servers.</summary>
internal sealed record PoolServer(string ServerId, string Address, string Zone, int Load, bool Healthy, bool Suspect,
    DateTimeOffset? EjectedUntil, string HealthDetail);

/// <summary>An operator's view of a controller: its REST API (the gateway's JSON transcoding), as a user calls it.</summary>
internal sealed class ControllerRest(Uri baseAddress, HttpMessageHandler? handler = null) : IDisposable
{
    private readonly HttpClient _http = new(handler ?? new HttpClientHandler(), disposeHandler: true)
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(2),
    };

    public Uri BaseAddress => baseAddress;

    /// <summary>
    /// Adds a server, trying again for up to 20 s while the controller that has just started does not answer in time (a
    /// loaded machine: the first calls are slow; adding the same server again changes nothing).
    /// </summary>
    public async Task AddServerAsync(string pool, string serverId, string address, string zone, CancellationToken ct, int capacity = 10)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(20);
        HttpResponseMessage response;
        for (; ; )
        {
            try
            {
                response = await _http.PostAsJsonAsync($"/api/v1/pools/{pool}/servers", new { server = new { serverId, address, zone, capacity } }, ct);
                break;
            }
            catch (Exception e) when ((e is HttpRequestException or TaskCanceledException) && !ct.IsCancellationRequested && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(250, ct);
            }
            catch (Exception e) when ((e is HttpRequestException or TaskCanceledException) && !ct.IsCancellationRequested)
            {
                throw new DemoException($"adding server {serverId} to pool {pool} at {baseAddress}: the controller did not answer within 20 s ({e.Message})");
            }
        }

        using var _ = response;
        if (!response.IsSuccessStatusCode)
        {
            throw new DemoException($"adding server {serverId} to pool {pool} at {baseAddress}: " +
                $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    public async Task<IReadOnlyList<PoolServer>> ListServersAsync(string pool, CancellationToken ct)
    {
        var body = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/pools/{pool}/servers", ct);
        return body.TryGetProperty("servers", out var servers)
            ? [.. servers.EnumerateArray().Select(s => new PoolServer(String(s, "serverId") ?? "", String(s, "address") ?? "",
                String(s, "zone") ?? "", s.TryGetProperty("load", out var l) ? l.GetInt32() : 0, Bool(s, "healthy"), Bool(s, "suspect"),
                Time(s, "ejectedUntil"), String(s, "healthDetail") ?? ""))]
            : [];
    }

    public async Task<IReadOnlyList<RegistryEntry>> ListConnectionsAsync(CancellationToken ct)
    {
        var body = await _http.GetFromJsonAsync<JsonElement>("/api/v1/connections?page_size=100", ct);
        return body.TryGetProperty("connections", out var list) ? [.. list.EnumerateArray().Select(Entry)] : [];
    }

    /// <summary>The registry entry, or null while the connection is not registered (404).</summary>
    public async Task<RegistryEntry?> GetConnectionAsync(string connectionId, CancellationToken ct)
    {
        using var response = await _http.GetAsync($"/api/v1/connections/{connectionId}", ct);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return Entry(await response.Content.ReadFromJsonAsync<JsonElement>(ct));
    }

    public async Task<bool> IsReadyAsync(CancellationToken ct)
    {
        using var response = await _http.GetAsync("/readyz", ct);
        return response.IsSuccessStatusCode;
    }

    public void Dispose() => _http.Dispose();

    private static RegistryEntry Entry(JsonElement c) => new(
        String(c, "connectionId") ?? "",
        (String(c, "status") ?? "UNSPECIFIED").Replace("CONNECTION_STATUS_", "", StringComparison.Ordinal),
        NonEmpty(String(c, "serverId")), NonEmpty(String(c, "serverAddress")), String(c, "statusDetail") ?? "",
        NonEmpty(String(c, "sidecarId")), NonEmpty(String(c, "region")),
        c.TryGetProperty("version", out var v) ? (v.ValueKind == JsonValueKind.String ? long.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : v.GetInt64()) : 0,
        NonEmpty(String(c, "incarnation")));

    private static string? String(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        String(e, name) is { } t ? DateTimeOffset.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : null;

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
