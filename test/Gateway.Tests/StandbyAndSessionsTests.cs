using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>The contract of DR standbys and server session reports (docs/gateway.md), with real bearer-token identities.</summary>
[Collection(GatewayCollection.Name)]
public sealed class StandbyAndSessionsTests(GatewayFixture f)
{
    [Fact]
    public async Task A_sidecar_registers_as_standby_of_another_sidecars_connection_gets_no_assignment_and_may_not_speak_for_it()
    {
        var pool = await f.CreatePoolAsync();
        var primary = (await f.Controller.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "bank-dr", ServerPool = pool, PreferredServer = "srv-0" }, Sidecar(20))).Connection;

        var answer = await f.Controller.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ConnectionId = primary.ConnectionId,
            ClientId = "bank-dr",
            ServerPool = pool,
            Standby = true,
        }, Sidecar(21));

        Assert.True(answer.Standby);
        Assert.Equal("sidecar-20", answer.Connection.SidecarId);
        var standby = Assert.Single(answer.Connection.Standbys);
        Assert.Equal(("sidecar-21", false), (standby.SidecarId, standby.FormerPrimary));
        // A standby is not the owner: a heartbeat of it for the connection ends its stream, as for any other sidecar.
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(21), "sidecar-21");
        await using var _ = stream;
        await stream.HeartbeatAsync(primary.ConnectionId);
        var e = await Assert.ThrowsAsync<RpcException>(() => stream.NextAsync());
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task A_standby_of_a_connection_that_is_not_registered_is_NOT_FOUND_and_REST_takes_the_standby_flag()
    {
        var pool = await f.CreatePoolAsync();
        var missing = await Assert.ThrowsAsync<RpcException>(() => f.Controller.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ConnectionId = $"nobody-{Guid.NewGuid():N}"[..20],
            ClientId = "bank-dr",
            ServerPool = pool,
            Standby = true,
        }, Sidecar(21)).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        var primary = await f.RegisterAsync(pool, sidecarId: "sidecar-20");
        using var http = new HttpClient { BaseAddress = f.Host.RestAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/connections")
        {
            Content = JsonContent.Create(new { connectionId = primary.ConnectionId, clientId = "bank-client-1", serverPool = pool, sidecarId = "dr-site-1", standby = true }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.OperatorToken);
        using var response = await http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(body.GetProperty("standby").GetBoolean());
        Assert.Equal("dr-site-1", body.GetProperty("connection").GetProperty("standbys")[0].GetProperty("sidecarId").GetString());
        var got = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = primary.ConnectionId }, Operator);
        Assert.Equal(("sidecar-20", "dr-site-1"), (got.SidecarId, got.Standbys.Single().SidecarId));
    }

    [Fact]
    public async Task A_session_report_is_taken_and_a_malformed_one_is_rejected_with_the_stream_left_open()
    {
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(22), "sidecar-22");
        await using var _ = stream;

        await stream.SendAsync(new SidecarMessage
        {
            SessionReport = new SessionReport
            {
                ServerPool = "scheme",
                ServerId = "srv-0",
                ServerAddress = "10.0.0.1:5000",
                Sessions = { new HeldSession { ClientAddress = "10.1.0.7:41000", SignedOnAs = "12345", SignedOn = true } },
            },
        });
        Assert.Null(await stream.NextAsync(TimeSpan.FromMilliseconds(800)));

        await stream.SendAsync(new SidecarMessage { SessionReport = new SessionReport { ServerPool = "scheme", ServerId = "bad id!" } });
        var rejected = await stream.NextAsync();
        Assert.Equal(("INVALID_ARGUMENT", true), (rejected!.Rejected.Code, rejected.Rejected.Message.StartsWith("session_report.", StringComparison.Ordinal)));
        await stream.SendAsync(new SidecarMessage
        {
            SessionReport = new SessionReport { ServerPool = "scheme", ServerId = "srv-0", Sessions = { new HeldSession { ClientAddress = "" } } },
        });
        Assert.StartsWith("session_report.sessions[].client_address", (await stream.NextAsync())!.Rejected.Message, StringComparison.Ordinal);

        // Still open: a heartbeat for an unknown connection is answered on it.
        await stream.HeartbeatAsync("no-such-connection");
        Assert.Equal("NOT_FOUND", (await stream.NextAsync())!.Rejected.Code);
    }
}
