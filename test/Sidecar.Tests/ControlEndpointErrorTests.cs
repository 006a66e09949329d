using System.Net;
using System.Text;
using System.Text.Json;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>The control endpoint's answers to bad input, over real HTTP: 400 problem details (RFC 9457) saying what is wrong, never a 5xx, never the whole input echoed.</summary>
public sealed class ControlEndpointErrorTests
{
    [Theory]
    [InlineData("/control/failover", "{\"server\": ", "body: not valid JSON")]
    [InlineData("/control/drain", "not json", "body: not valid JSON")]
    [InlineData("/control/drain", "{\"deadlinMs\": 5}", "unknown field")]
    [InlineData("/control/drain", "{\"deadlineMs\": \"abc\"}", "deadlineMs: expected a whole number")]
    [InlineData("/control/drain", "{\"deadlineMs\": 99999999999}", "deadlineMs: expected a whole number")]
    [InlineData("/control/drain", "{\"deadlineMs\": -1}", "deadlineMs: must be 0..600000")]
    [InlineData("/control/failover", "{\"server\": \"no-port\"}", "server: must be host:port")]
    public async Task Bad_input_is_a_400_problem_naming_what_is_wrong(string path, string body, string expected)
    {
        await using var scheme = new Scheme("A");
        await using var app = await InProcessSidecar.StartAsync(new() { ["Sidecar:Link:Server"] = scheme.Address });
        using var http = InProcessSidecar.ControlClient(app);

        var (status, problem, raw) = await PostAsync(http, path, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("System.", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("OrleansControl.", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_huge_reason_or_server_is_a_400_that_echoes_a_bounded_part_of_it()
    {
        await using var scheme = new Scheme("A");
        await using var app = await InProcessSidecar.StartAsync(new() { ["Sidecar:Link:Server"] = scheme.Address });
        using var http = InProcessSidecar.ControlClient(app);

        var (status, problem, _) = await PostAsync(http, "/control/failover", JsonSerializer.Serialize(new { reason = new string('r', 100 * 1024) }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("at most", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        (status, problem, _) = await PostAsync(http, "/control/failover", JsonSerializer.Serialize(new { reason = new string('r', 2_000) }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("reason: at most 512 characters (was 2000)", problem.GetProperty("detail").GetString());

        var (_, _, raw) = await PostAsync(http, "/control/connect", JsonSerializer.Serialize(new { server = new string('h', 10_000) + ":5000" }));
        Assert.InRange(raw.Length, 1, 2_000);
    }

    [Fact]
    public async Task An_unknown_control_route_is_a_404_problem()
    {
        await using var scheme = new Scheme("A");
        await using var app = await InProcessSidecar.StartAsync(new() { ["Sidecar:Link:Server"] = scheme.Address });
        using var http = InProcessSidecar.ControlClient(app);

        var response = await http.PostAsync("/control/reboot", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no control route POST /control/reboot", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Problem, string Raw)> PostAsync(HttpClient http, string path, string body)
    {
        var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var raw = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(raw).RootElement.Clone(), raw);
    }
}
