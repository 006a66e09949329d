using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansControl.Gateway.Tests.Infrastructure;

namespace OrleansControl.Gateway.Tests;

/// <summary>The /api/v1 routes transcoded from the proto, over HTTP/1.1 on the REST port.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RestTests(GatewayFixture f) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = f.Host.RestAddress };

    private HttpRequestMessage Request(HttpMethod method, string path, object? body = null, string? token = GatewayHost.OperatorToken)
    {
        var m = new HttpRequestMessage(method, path);
        if (token is not null) m.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) m.Content = JsonContent.Create(body);
        return m;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Send(HttpRequestMessage m)
    {
        using var response = await _http.SendAsync(m);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task<string> CreatePool()
    {
        var pool = $"rest-{Guid.NewGuid():N}"[..20];
        var (status, body) = await Send(Request(HttpMethod.Post, $"/api/v1/pools/{pool}/servers",
            new { server = new { serverId = "srv-0", address = "10.9.0.1:5000", zone = "zone-a", capacity = 5 } }));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("srv-0", body.GetProperty("server").GetProperty("serverId").GetString());
        return pool;
    }

    [Fact]
    public async Task Register_get_list_and_change_state_over_REST()
    {
        var pool = await CreatePool();
        var client = $"rest-client-{Guid.NewGuid():N}"[..24];

        var (created, body) = await Send(Request(HttpMethod.Post, "/api/v1/connections",
            new { clientId = client, serverPool = pool, sidecarId = "sidecar-1", metadata = new { terminal = "T9" } }));
        Assert.Equal(HttpStatusCode.OK, created);
        var connection = body.GetProperty("connection");
        var id = connection.GetProperty("connectionId").GetString()!;
        Assert.Equal("srv-0", connection.GetProperty("serverId").GetString());
        Assert.Equal("CONNECTION_STATUS_REQUESTED", connection.GetProperty("status").GetString());

        var (got, one) = await Send(Request(HttpMethod.Get, $"/api/v1/connections/{id}"));
        Assert.Equal(HttpStatusCode.OK, got);
        Assert.Equal("T9", one.GetProperty("metadata").GetProperty("terminal").GetString());
        var version = one.GetProperty("version").GetInt64();

        var list = await Eventually.Until(
            () => Send(Request(HttpMethod.Get, $"/api/v1/connections?client_id={client}&page_size=10")),
            r => r.Status == HttpStatusCode.OK && r.Body.TryGetProperty("connections", out var items) && items.GetArrayLength() == 1);
        Assert.Equal(id, list.Body.GetProperty("connections")[0].GetProperty("connectionId").GetString());

        var (stale, error) = await Send(Request(HttpMethod.Put, $"/api/v1/connections/{id}/state",
            new { state = "CONNECTION_STATUS_CLOSED", expectedVersion = version + 3 }));
        Assert.Equal(HttpStatusCode.BadRequest, stale); // FAILED_PRECONDITION
        Assert.Equal(9, error.GetProperty("code").GetInt32());

        var (closed, after) = await Send(Request(HttpMethod.Put, $"/api/v1/connections/{id}/state",
            new { state = "CONNECTION_STATUS_CLOSED", expectedVersion = version }));
        Assert.Equal(HttpStatusCode.OK, closed);
        Assert.Equal("CONNECTION_STATUS_CLOSED", after.GetProperty("connection").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_report_and_failover_over_REST()
    {
        var pool = await CreatePool();
        await Send(Request(HttpMethod.Post, $"/api/v1/pools/{pool}/servers",
            new { server = new { serverId = "srv-1", address = "10.9.0.2:5000", zone = "zone-b", capacity = 5 } }));
        var (_, body) = await Send(Request(HttpMethod.Post, "/api/v1/connections",
            new { clientId = "c", serverPool = pool, preferredServer = "srv-0" }, GatewayHost.SidecarToken(1)));
        var id = body.GetProperty("connection").GetProperty("connectionId").GetString();

        var (reported, health) = await Send(Request(HttpMethod.Post, $"/api/v1/connections/{id}/health",
            new { status = "LINK_HEALTH_HEALTHY", metrics = new { echoRttMs = 9.5 } }, GatewayHost.SidecarToken(1)));
        Assert.Equal(HttpStatusCode.OK, reported);
        Assert.Equal("CONNECTION_STATUS_ACTIVE", health.GetProperty("status").GetString());

        var (moved, failover) = await Send(Request(HttpMethod.Post, $"/api/v1/connections/{id}/failover",
            new { reason = "rest drill", idempotencyKey = "rest-1" }));
        Assert.Equal(HttpStatusCode.OK, moved);
        // Under way, not done: the registry names the target and why it waits; Active follows the sidecar's sign-on.
        var connection = failover.GetProperty("connection");
        Assert.Equal(("CONNECTION_STATUS_MIGRATING", "srv-0", "srv-1"), (connection.GetProperty("status").GetString(),
            connection.GetProperty("serverId").GetString(), connection.GetProperty("failoverTarget").GetString()));
        Assert.StartsWith("waiting for sidecar", connection.GetProperty("statusDetail").GetString());

        var (listed, servers) = await Send(Request(HttpMethod.Get, $"/api/v1/pools/{pool}/servers"));
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal(2, servers.GetProperty("servers").GetArrayLength());
    }

    [Fact]
    public async Task WatchConnections_streams_changes_over_REST()
    {
        var pool = await CreatePool();
        var (_, body) = await Send(Request(HttpMethod.Post, "/api/v1/connections", new { clientId = "watch", serverPool = pool }));
        var connection = body.GetProperty("connection");
        var id = connection.GetProperty("connectionId").GetString();
        var version = connection.GetProperty("version").GetInt64();

        using var watch = await _http.SendAsync(Request(HttpMethod.Get, $"/api/v1/watch/connections?connection_id={id}"),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
        using var reader = new StreamReader(await watch.Content.ReadAsStreamAsync());

        await Send(Request(HttpMethod.Put, $"/api/v1/connections/{id}/state", new { state = "CONNECTION_STATUS_CLOSED", expectedVersion = version }));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = "";
        while (!seen.Contains("CONNECTION_STATUS_CLOSED"))
        {
            var buffer = new char[4096];
            var n = await reader.ReadAsync(buffer, cts.Token);
            Assert.True(n > 0, "the watch stream ended early");
            seen += new string(buffer, 0, n);
        }
        Assert.Contains(id!, seen);
    }

    [Theory]
    [InlineData("/api/v1/connections/unknown-connection", null, HttpStatusCode.NotFound)]
    [InlineData("/api/v1/connections/bad%20id", null, HttpStatusCode.BadRequest)]
    [InlineData("/api/v1/connections?page_size=5000", null, HttpStatusCode.BadRequest)]
    [InlineData("/api/v1/connections", "none", HttpStatusCode.Unauthorized)]
    [InlineData("/api/v1/connections", "wrong-token", HttpStatusCode.Unauthorized)]
    public async Task REST_errors_use_the_mapped_http_status(string path, string? token, HttpStatusCode expected)
    {
        var m = Request(HttpMethod.Get, path, token: token switch { null => GatewayHost.OperatorToken, "none" => null, _ => token });
        var (status, body) = await Send(m);
        Assert.Equal(expected, status);
        Assert.False(body.GetProperty("message").GetString()!.Contains("   at "), "no stack trace on the wire");
    }

    [Fact]
    public async Task A_sidecar_reading_another_sidecars_connection_over_REST_is_forbidden()
    {
        var pool = await CreatePool();
        var (_, body) = await Send(Request(HttpMethod.Post, "/api/v1/connections", new { clientId = "c", serverPool = pool }, GatewayHost.SidecarToken(1)));
        var id = body.GetProperty("connection").GetProperty("connectionId").GetString();

        var (status, _) = await Send(Request(HttpMethod.Get, $"/api/v1/connections/{id}", token: GatewayHost.SidecarToken(2)));

        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    public void Dispose() => _http.Dispose();
}
