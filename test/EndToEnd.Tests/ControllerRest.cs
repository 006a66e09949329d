using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>What GET /api/v1/connections/{id} says, with the status without its enum prefix (ACTIVE, MIGRATING, …).</summary>
internal sealed record RegistryEntry(string Status, string? ServerId, string? ServerAddress, string? SidecarId, string StatusDetail,
    DateTimeOffset? LastHeartbeat, string? FailoverTarget, string? HostSilo = null, long Version = 0,
    IReadOnlyList<string>? Standbys = null, string? ActivatingSidecarId = null)
{
    public override string ToString() =>
        $"{Status} on {ServerId ?? "-"} ({ServerAddress ?? "-"}) by {SidecarId ?? "-"}, target {FailoverTarget ?? "-"}, heartbeat {LastHeartbeat:HH:mm:ss.fff}, detail '{StatusDetail}'"
        + (Standbys is { Count: > 0 } ? $", standbys [{string.Join(", ", Standbys)}]" : "")
        + (ActivatingSidecarId is null ? "" : $", activating {ActivatingSidecarId}");
}

/// <summary>One entry of GET /api/v1/pools/{pool}/servers.</summary>
internal sealed record PoolServer(string ServerId, string Address, bool Healthy, bool Suspect, string HealthDetail);

/// <summary>An operator's view of the controller: its REST API (the gateway's JSON transcoding), as a user calls it.</summary>
internal sealed class ControllerRest(Uri baseAddress) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };

    public async Task AddServerAsync(string pool, string serverId, string address, string zone, int capacity = 10)
    {
        using var response = await _http.PostAsJsonAsync($"/api/v1/pools/{pool}/servers",
            new { server = new { serverId, address, zone, capacity } });
        await EnsureSuccess(response, $"add server {serverId}");
    }

    public async Task<IReadOnlyList<PoolServer>> ListServersAsync(string pool)
    {
        var body = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/pools/{pool}/servers");
        return [.. body.GetProperty("servers").EnumerateArray().Select(s => new PoolServer(
            s.GetProperty("serverId").GetString()!, s.GetProperty("address").GetString()!,
            Bool(s, "healthy"), Bool(s, "suspect"), String(s, "healthDetail") ?? ""))];
    }

    /// <summary>The registry entry, or null while the connection is not registered (404).</summary>
    public async Task<RegistryEntry?> GetConnectionAsync(string connectionId)
    {
        using var response = await _http.GetAsync($"/api/v1/connections/{connectionId}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccess(response, $"get connection {connectionId}");
        return Entry(await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public async Task<RegistryEntry> RegisterAsync(string connectionId, string clientId, string pool, string? preferredServer)
    {
        using var response = await _http.PostAsJsonAsync("/api/v1/connections",
            new { connectionId, clientId, serverPool = pool, preferredServer = preferredServer ?? "" });
        await EnsureSuccess(response, $"register {connectionId}");
        return Entry((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("connection"));
    }

    public async Task<RegistryEntry> RequestFailoverAsync(string connectionId, string reason, string idempotencyKey)
    {
        using var response = await _http.PostAsJsonAsync($"/api/v1/connections/{connectionId}/failover", new { reason, idempotencyKey });
        await EnsureSuccess(response, $"failover of {connectionId}");
        return Entry((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("connection"));
    }

    public async Task<bool> IsReadyAsync()
    {
        using var response = await _http.GetAsync("/readyz");
        return response.IsSuccessStatusCode;
    }

    public void Dispose() => _http.Dispose();

    private static RegistryEntry Entry(JsonElement c) => new(
        (String(c, "status") ?? "UNSPECIFIED").Replace("CONNECTION_STATUS_", "", StringComparison.Ordinal),
        NonEmpty(String(c, "serverId")), NonEmpty(String(c, "serverAddress")), NonEmpty(String(c, "sidecarId")),
        String(c, "statusDetail") ?? "",
        String(c, "lastHeartbeat") is { } hb ? DateTimeOffset.Parse(hb, System.Globalization.CultureInfo.InvariantCulture) : null,
        NonEmpty(String(c, "failoverTarget")), NonEmpty(String(c, "hostSilo")),
        !c.TryGetProperty("version", out var v) ? 0
            : v.ValueKind == JsonValueKind.String ? long.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : v.GetInt64(), // int64 is a JSON string
        c.TryGetProperty("standbys", out var standbys) && standbys.ValueKind == JsonValueKind.Array
            ? [.. standbys.EnumerateArray().Select(s => String(s, "sidecarId") ?? "")]
            : [],
        NonEmpty(String(c, "activatingSidecarId")));

    private static string? String(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static async Task EnsureSuccess(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}", null, response.StatusCode);
        }
    }
}
