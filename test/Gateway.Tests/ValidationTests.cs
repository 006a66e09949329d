using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>Every validated field: INVALID_ARGUMENT with a message that names it.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ValidationTests(GatewayFixture f)
{
    public static TheoryData<string, string> Cases() => new()
    {
        { "register.no_client", "client_id" },
        { "register.bad_client", "client_id" },
        { "register.no_pool", "server_pool" },
        { "register.bad_preferred", "preferred_server" },
        { "register.long_connection_id", "connection_id" },
        { "register.reserved_metadata", "metadata" },
        { "register.too_much_metadata", "metadata" },
        { "health.no_connection", "connection_id" },
        { "health.no_status", "status" },
        { "health.unknown_status", "status" },
        { "health.negative_rtt", "metrics.echo_rtt_ms" },
        { "health.huge_rtt", "metrics.echo_rtt_ms" },
        { "health.nan_rtt", "metrics.echo_rtt_ms" },
        { "health.too_many_errors", "metrics.errors" },
        { "failover.no_reason", "reason" },
        { "failover.no_key", "idempotency_key" },
        { "failover.long_reason", "reason" },
        { "update.no_state", "state" },
        { "update.no_version", "expected_version" },
        { "update.negative_version", "expected_version" },
        { "get.bad_id", "connection_id" },
        { "list.negative_page", "page_size" },
        { "list.huge_page", "page_size" },
        { "list.bad_client", "client_id" },
        { "pool.no_server", "server" },
        { "pool.zero_capacity", "server.capacity" },
        { "pool.bad_address", "server.address" },
        { "pool.no_port", "server.address" },
        { "pool.no_zone", "server.zone" },
        { "assign.no_connection", "connection_id" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Invalid_field_is_INVALID_ARGUMENT_naming_the_field(string @case, string field)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Call(@case));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith(field + ":", e.Status.Detail);
    }

    private Task Call(string @case)
    {
        var c = f.Controller;
        var p = f.Pools;
        var valid = new RegisterConnectionRequest { ClientId = "client", ServerPool = "pool" };
        RegisterConnectionRequest Reg(Action<RegisterConnectionRequest> change)
        {
            var r = valid.Clone();
            change(r);
            return r;
        }
        return @case switch
        {
            "register.no_client" => c.RegisterConnectionAsync(Reg(r => r.ClientId = ""), Operator).ResponseAsync,
            "register.bad_client" => c.RegisterConnectionAsync(Reg(r => r.ClientId = "has space"), Operator).ResponseAsync,
            "register.no_pool" => c.RegisterConnectionAsync(Reg(r => r.ServerPool = ""), Operator).ResponseAsync,
            "register.bad_preferred" => c.RegisterConnectionAsync(Reg(r => r.PreferredServer = "srv/1"), Operator).ResponseAsync,
            "register.long_connection_id" => c.RegisterConnectionAsync(Reg(r => r.ConnectionId = new string('x', 129)), Operator).ResponseAsync,
            "register.reserved_metadata" => c.RegisterConnectionAsync(Reg(r => r.Metadata["oc.sidecar_id"] = "evil"), Operator).ResponseAsync,
            "register.too_much_metadata" => c.RegisterConnectionAsync(Reg(r =>
            {
                for (var i = 0; i < 33; i++) r.Metadata[$"k{i}"] = "v";
            }), Operator).ResponseAsync,
            "health.no_connection" => c.ReportHealthAsync(new ReportHealthRequest { Status = LinkHealth.Healthy }, Operator).ResponseAsync,
            "health.no_status" => c.ReportHealthAsync(new ReportHealthRequest { ConnectionId = "c1" }, Operator).ResponseAsync,
            "health.unknown_status" => c.ReportHealthAsync(new ReportHealthRequest { ConnectionId = "c1", Status = (LinkHealth)42 }, Operator).ResponseAsync,
            "health.negative_rtt" => Health(new HealthMetrics { EchoRttMs = -1 }),
            "health.huge_rtt" => Health(new HealthMetrics { EchoRttMs = 60_001 }),
            "health.nan_rtt" => Health(new HealthMetrics { EchoRttMs = double.NaN }),
            "health.too_many_errors" => Health(new HealthMetrics { Errors = 1_000_001 }),
            "failover.no_reason" => c.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = "c1", IdempotencyKey = "k" }, Operator).ResponseAsync,
            "failover.no_key" => c.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = "c1", Reason = "r" }, Operator).ResponseAsync,
            "failover.long_reason" => c.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = "c1", Reason = new string('r', 513), IdempotencyKey = "k" }, Operator).ResponseAsync,
            "update.no_state" => c.UpdateConnectionStateAsync(new UpdateConnectionStateRequest { ConnectionId = "c1", ExpectedVersion = 1 }, Operator).ResponseAsync,
            "update.no_version" => c.UpdateConnectionStateAsync(new UpdateConnectionStateRequest { ConnectionId = "c1", State = ConnectionStatus.Closed }, Operator).ResponseAsync,
            "update.negative_version" => c.UpdateConnectionStateAsync(new UpdateConnectionStateRequest { ConnectionId = "c1", State = ConnectionStatus.Closed, ExpectedVersion = -3 }, Operator).ResponseAsync,
            "get.bad_id" => c.GetConnectionAsync(new GetConnectionRequest { ConnectionId = "bad id" }, Operator).ResponseAsync,
            "list.negative_page" => c.ListConnectionsAsync(new ListConnectionsRequest { PageSize = -1 }, Operator).ResponseAsync,
            "list.huge_page" => c.ListConnectionsAsync(new ListConnectionsRequest { PageSize = 1001 }, Operator).ResponseAsync,
            "list.bad_client" => c.ListConnectionsAsync(new ListConnectionsRequest { ClientId = "a b" }, Operator).ResponseAsync,
            "pool.no_server" => p.AddServerAsync(new AddServerRequest { ServerPool = "p" }, Operator).ResponseAsync,
            "pool.zero_capacity" => AddServer(s => s.Capacity = 0),
            "pool.bad_address" => AddServer(s => s.Address = "not an address:99999"),
            "pool.no_port" => AddServer(s => s.Address = "host-only"),
            "pool.no_zone" => AddServer(s => s.Zone = ""),
            "assign.no_connection" => p.AssignServerAsync(new AssignServerRequest { ServerPool = "p", ClientId = "c" }, Operator).ResponseAsync,
            _ => throw new ArgumentOutOfRangeException(nameof(@case)),
        };
    }

    private Task Health(HealthMetrics metrics) =>
        f.Controller.ReportHealthAsync(new ReportHealthRequest { ConnectionId = "c1", Status = LinkHealth.Healthy, Metrics = metrics }, Operator).ResponseAsync;

    private Task AddServer(Action<ServerInstance> change)
    {
        var s = new ServerInstance { ServerId = "s1", Address = "10.1.1.1:7000", Zone = "z1", Capacity = 5 };
        change(s);
        return f.Pools.AddServerAsync(new AddServerRequest { ServerPool = "p", Server = s }, Operator).ResponseAsync;
    }
}
