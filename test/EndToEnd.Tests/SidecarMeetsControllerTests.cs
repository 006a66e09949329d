using System.Collections.Immutable;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Codec;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using ConnectionStatus = OrleansControl.GrainInterfaces.Models.ConnectionStatus;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// The real sidecar agent against the real gateway and grains (no fakes on either side): registration, assignment,
/// heartbeats, a failover command carried out and acknowledged, and the ISO link surviving the controller's death.
/// </summary>
public sealed class SidecarMeetsControllerTests : IAsyncLifetime
{
    private const string Pool = "scheme-pool";
    private static readonly MessageSpec Spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly SchemeServer _serverA = new("srv-a");
    private readonly SchemeServer _serverB = new("srv-b");
    private ControllerHost _controller = null!;
    private IsoClient _link = null!;
    private SidecarAgent _agent = null!;
    private int _stan;

    public async Task InitializeAsync()
    {
        _controller = await ControllerHost.StartAsync(heartbeatInterval: TimeSpan.FromSeconds(1));
        var pool = _controller.Grains.GetGrain<IServerPoolGrain>(Pool);
        await pool.AddOrUpdateServer(new ServerDefinition("srv-a", _serverA.Address, "zone-a", 10));
        await pool.AddOrUpdateServer(new ServerDefinition("srv-b", _serverB.Address, "zone-b", 10));

        _link = new IsoClient(new IsoClientOptions
        {
            Name = "bank",
            InstitutionId = "12345",
            EchoInterval = TimeSpan.FromSeconds(1),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        });
        _agent = new SidecarAgent(_link, Options.Create(new SidecarAgentOptions
        {
            Controller = _controller.GrpcAddress,
            SidecarId = "sidecar-1",
            ClientId = "bank-a",
            ServerPool = Pool,
            PreferredServer = "srv-a",
            HeartbeatInterval = TimeSpan.FromMilliseconds(250),
            RetryInitialDelay = TimeSpan.FromMilliseconds(100),
            RetryMaxDelay = TimeSpan.FromMilliseconds(500),
        }), NullLogger<SidecarAgent>.Instance);
        await _agent.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _agent.StopAsync(CancellationToken.None);
        _agent.Dispose();
        await _link.DisposeAsync();
        await _controller.DisposeAsync();
        await _serverA.DisposeAsync();
        await _serverB.DisposeAsync();
    }

    private string ConnectionId => _agent.Status().ConnectionId;

    private IConnectionGrain Connection => _controller.Grains.GetGrain<IConnectionGrain>(ConnectionId);

    [Fact]
    public async Task Sidecar_registers_is_assigned_its_preferred_server_and_heartbeats_reach_the_grain()
    {
        await Until(() => _link.State == ConnectionState.SignedOn && _link.Server == _serverA.Address, "signed on to srv-a");
        Assert.Equal("srv-a", await Authorize());

        var state = await UntilState(s => s.Status == ConnectionStatus.Active && s.LastHeartbeat is not null, "active with heartbeats");
        Assert.Equal("bank-a", state.ClientId);
        Assert.Equal("srv-a", state.ServerId);
        var first = state.LastHeartbeat!.Value;
        await UntilState(s => s.LastHeartbeat > first, "a later heartbeat");

        // Operators see the same connection, with the address the sidecar was sent to, in the REST listing.
        using var operators = new HttpClient { BaseAddress = _controller.RestAddress };
        var page = await operators.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/connections?clientId=bank-a");
        var listed = Assert.Single(page.GetProperty("connections").EnumerateArray());
        Assert.Equal(ConnectionId, listed.GetProperty("connectionId").GetString());
        Assert.Equal(_serverA.Address, listed.GetProperty("serverAddress").GetString());
    }

    [Fact]
    public async Task A_failover_requested_from_the_controller_moves_the_iso_link_and_is_acknowledged()
    {
        await Until(() => _link.State == ConnectionState.SignedOn && _link.Server == _serverA.Address, "signed on to srv-a");
        await UntilState(s => s.Status == ConnectionStatus.Active, "active");

        // An operator asks over REST (the gateway's JSON transcoding of ControllerService.RequestFailover).
        using var operators = new HttpClient { BaseAddress = _controller.RestAddress };
        var url = $"/api/v1/connections/{ConnectionId}/failover";
        var move = new { reason = "planned maintenance of srv-a", idempotencyKey = "e2e-move-1" };
        (await operators.PostAsJsonAsync(url, move)).EnsureSuccessStatusCode();

        await Until(() => _link.Server == _serverB.Address && _link.State == ConnectionState.SignedOn, "link moved to srv-b");
        Assert.Equal("srv-b", await Authorize());
        await Until(() => _agent.Status().RecentCommands.Any(c => c.Kind.Contains("Reconnect", StringComparison.OrdinalIgnoreCase) && c.Success), "command carried out");
        var state = await UntilState(s => s.ServerId == "srv-b" && s.Status == ConnectionStatus.Active, "grain active on srv-b");
        Assert.Single(state.RecentFailovers);

        // The same request again (a retry) does not move it a second time.
        (await operators.PostAsJsonAsync(url, move)).EnsureSuccessStatusCode();
        Assert.Single((await Connection.GetState()).RecentFailovers);
        Assert.Equal(_serverB.Address, _link.Server);
    }

    [Fact]
    public async Task Iso_traffic_continues_when_the_controller_goes_down()
    {
        await Until(() => _link.State == ConnectionState.SignedOn && _agent.Status().ControllerAttached, "signed on and attached");

        await _controller.StopAsync();
        await Until(() => !_agent.Status().ControllerAttached, "agent notices the controller is gone");

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("srv-a", await Authorize());
        }

        Assert.Equal(ConnectionState.SignedOn, _link.State);
    }

    private async Task<string?> Authorize()
    {
        var request = Spec.CreateMessage(200);
        request.Set(2, "4111111111111111").Set(3, "000000").Set(4, 1000L)
            .Set(11, Interlocked.Increment(ref _stan).ToString("D6")).Set(41, "TERM0001");
        var response = await _link.SendAsync(request);
        Assert.Equal("00", response.GetString(39));
        return response.GetString(44);
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(25);
        }
    }

    private async Task<ConnectionSnapshot> UntilState(Func<ConnectionSnapshot, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            try
            {
                var state = await Connection.GetState();
                if (condition(state))
                {
                    return state;
                }
            }
            catch (OrleansControl.GrainInterfaces.Errors.ConnectionNotFoundException)
            {
                // Not registered yet.
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(25);
        }
    }
}
