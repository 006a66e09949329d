using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Hosting;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

public sealed class ControlEndpointTests
{
    private static Task<WebApplication> StartHostAsync(Dictionary<string, string?> settings) => InProcessSidecar.StartAsync(settings);

    private static HttpClient ClientFor(WebApplication app) => InProcessSidecar.ControlClient(app);

    [Fact]
    public async Task Status_failover_and_drain_over_http()
    {
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var app = await StartHostAsync(new()
        {
            ["Sidecar:Link:Server"] = a.Address,
            ["Sidecar:Agent:SidecarId"] = "sc-1",
        });
        using var http = ClientFor(app);
        var link = app.Services.GetRequiredService<IsoClient>();
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "signed on");

        using var status = JsonDocument.Parse(await http.GetStringAsync("/control/status"));
        Assert.Equal("SignedOn", status.RootElement.GetProperty("link").GetProperty("state").GetString());
        Assert.True(status.RootElement.GetProperty("link").GetProperty("score").GetInt32() >= LinkHealth.DegradedBelow);
        Assert.False(status.RootElement.GetProperty("controllerAttached").GetBoolean());
        Assert.Equal(0, status.RootElement.GetProperty("backups").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, status.RootElement.GetProperty("lastOwnMove").ValueKind);

        var failover = await http.PostAsJsonAsync("/control/failover", new { server = b.Address });
        Assert.Equal(HttpStatusCode.OK, failover.StatusCode);
        Assert.Equal(b.Address, link.Server);
        Assert.Equal("B", (await link.SendAsync(Scheme.Authorization("000001"))).GetString(44));

        var noController = await http.PostAsJsonAsync("/control/failover", new { reason = "test" });
        Assert.Equal(HttpStatusCode.BadRequest, noController.StatusCode);

        var drain = await http.PostAsJsonAsync("/control/drain", new { deadlineMs = 1000 });
        Assert.Equal(HttpStatusCode.OK, drain.StatusCode);
        Assert.Equal(ConnectionState.Closed, link.State);

        var resume = await http.PostAsJsonAsync("/control/connect", new { });
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal(ConnectionState.SignedOn, link.State);
    }

    [Fact]
    public async Task A_failover_the_controller_refuses_is_a_conflict_with_its_reason_and_an_unreachable_one_is_unavailable()
    {
        await using var a = new Scheme("A");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        controller.Shared.FailoverRefusal = new Grpc.Core.Status(Grpc.Core.StatusCode.FailedPrecondition, "no failover target: pool 'scheme' has no usable server");
        await using var app = await StartHostAsync(new()
        {
            ["Sidecar:Agent:Controller"] = controller.Address,
            ["Sidecar:Agent:SidecarId"] = "sc-1",
        });
        using var http = ClientFor(app);

        var refused = await http.PostAsJsonAsync("/control/failover", new { reason = "test" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("no failover target", await refused.Content.ReadAsStringAsync());

        controller.Shared.FailoverRefusal = new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable, "cluster unreachable");
        var unavailable = await http.PostAsJsonAsync("/control/failover", new { reason = "test" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
    }

    [Fact]
    public async Task Relay_carries_the_local_apps_requests_over_the_link_and_answers_91_when_it_cannot()
    {
        await using var scheme = new Scheme("A");
        await using var app = await StartHostAsync(new()
        {
            ["Sidecar:Link:Server"] = scheme.Address,
            ["Sidecar:Relay:Enabled"] = "true",
            ["Sidecar:Relay:Listen"] = "127.0.0.1:0",
        });
        var link = app.Services.GetRequiredService<IsoClient>();
        await Eventually.TrueAsync(() => link.State == ConnectionState.SignedOn, TimeSpan.FromSeconds(10), "link signed on");
        var relay = app.Services.GetRequiredService<OrleansControl.Sidecar.Relay.SidecarRelay>();
        await using var local = await Links.ConnectAsync($"127.0.0.1:{relay.Endpoint!.Port}");

        var relayed = await local.SendAsync(Scheme.Authorization("000001"));
        Assert.Equal("00", relayed.GetString(39));
        Assert.Equal("A", relayed.GetString(44));

        link.StopSending();
        var refused = await local.SendAsync(Scheme.Authorization("000002"));
        Assert.Equal("91", refused.GetString(39));
        Assert.Equal("000002", refused.GetString(11));
    }

    [Fact]
    public async Task A_relay_port_in_use_fails_the_host_at_start_naming_the_setting()
    {
        await using var scheme = new Scheme("A");
        await using var neighbour = new Scheme("neighbour");

        var error = await Assert.ThrowsAsync<SidecarException>(() => StartHostAsync(new()
        {
            ["Sidecar:Link:Server"] = scheme.Address,
            ["Sidecar:Relay:Enabled"] = "true",
            ["Sidecar:Relay:Listen"] = neighbour.Address,
        }));

        Assert.Equal(SidecarError.ListenFailed, error.Error);
        Assert.Contains("Sidecar:Relay:Listen", error.Message, StringComparison.Ordinal);
        Assert.Contains(neighbour.Address, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_link_options_fail_the_host_at_start()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => StartHostAsync(new()
        {
            ["Sidecar:Link:EchoInterval"] = "00:00:00.100",
        }));

        Assert.Contains("EchoInterval", error.Message, StringComparison.Ordinal);
    }
}
