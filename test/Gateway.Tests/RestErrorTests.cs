using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OrleansControl.Gateway.Tests.Infrastructure;

namespace OrleansControl.Gateway.Tests;

/// <summary>REST bodies that do not fit the proto: 400 naming the field and what was expected, no .NET type names; unknown fields refused.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RestErrorTests(GatewayFixture f) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = f.Host.RestAddress };

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "/api/v1/pools/{pool}/servers", """{"server":{"serverId":"srv-1","address":"10.9.0.2:5000","zone":"zone-a","capacity":"ten"}}""", "server.capacity: expected a whole number (int32), got the string \"ten\"" },
        { "/api/v1/pools/{pool}/servers", """{"server":{"serverId":"srv-1","address":"10.9.0.2:5000","zone":"zone-a","capacity":99999999999}}""", "server.capacity: expected a whole number (int32), got the number 99999999999" },
        { "/api/v1/pools/{pool}/servers", """{"server":{"serverId":"srv-1","adress":"10.9.0.2:5000","zone":"zone-a","capacity":1}}""", "server.adress: unknown field" },
        { "/api/v1/connections", """{"clientId":123,"serverPool":"{pool}"}""", "client_id: expected a string, got the number 123" },
        { "/api/v1/connections", """{"clientId":"c","serverPool":"{pool}","sidecar":"x"}""", "sidecar: unknown field" },
        { "/api/v1/pools/{pool}/servers/srv-0/health", """{"health":"SICK"}""", "health: expected one of SERVER_HEALTH_UNSPECIFIED" },
        { "/api/v1/connections", """{"clientId": """, "body: not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_body_that_does_not_fit_the_contract_is_a_400_naming_the_field(string path, string body, string expected)
    {
        var pool = await f.CreatePoolAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, path.Replace("{pool}", pool, StringComparison.Ordinal))
        {
            Content = new StringContent(body.Replace("{pool}", pool, StringComparison.Ordinal), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.OperatorToken);

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = JsonDocument.Parse(text).RootElement.GetProperty("message").GetString()!;
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Equal(3, JsonDocument.Parse(text).RootElement.GetProperty("code").GetInt32());
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("OrleansControl.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("not correctly formatted", text, StringComparison.Ordinal);
    }

    public void Dispose() => _http.Dispose();
}
