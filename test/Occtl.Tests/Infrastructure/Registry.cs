using Grpc.Core;
using Grpc.Net.Client;
using OrleansControl.Contract.V1;

namespace OrleansControl.Occtl.Tests.Infrastructure;

/// <summary>The tests' own operator calls: servers into pools, connections into the registry, waiting for a state.</summary>
internal sealed class Registry(GrpcChannel channel)
{
    private static readonly Metadata Operator = new() { { "authorization", "Bearer " + ControllerHost.OperatorToken } };

    public ControllerService.ControllerServiceClient Controller { get; } = new(channel);

    public ServerPoolService.ServerPoolServiceClient Pools { get; } = new(channel);

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    public async Task AddServerAsync(string pool, string serverId, string zone, int port)
    {
        await Pools.AddServerAsync(new AddServerRequest
        {
            ServerPool = pool,
            Server = new ServerInstance { ServerId = serverId, Address = $"127.0.0.1:{port}", Zone = zone, Capacity = 100 },
        }, Operator);
    }

    public async Task<Connection> RegisterAsync(string pool, string clientId, string? preferred = null, string? sidecarId = null, string? connectionId = null)
    {
        var response = await Controller.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ClientId = clientId,
            ServerPool = pool,
            PreferredServer = preferred ?? "",
            SidecarId = sidecarId ?? "",
            ConnectionId = connectionId ?? "",
        }, Operator);
        return response.Connection;
    }

    public async Task<Connection> GetAsync(string connectionId) =>
        await Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = connectionId }, Operator);

    public async Task<List<Connection>> ListAsync(string pool) =>
        [.. (await Controller.ListConnectionsAsync(new ListConnectionsRequest { ServerPool = pool, PageSize = 1000 }, Operator)).Connections];

    public async Task<Connection> RequestFailoverAsync(string connectionId) =>
        (await Controller.RequestFailoverAsync(new RequestFailoverRequest
        {
            ConnectionId = connectionId,
            Reason = "test",
            IdempotencyKey = Guid.NewGuid().ToString("N"),
        }, Operator)).Connection;

    /// <summary>Polls until the condition holds (the listing index lags the grains a little).</summary>
    public static async Task<T> Eventually<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var value = await probe();
            if (condition(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"condition not met in time; last value: {value}");
            await Task.Delay(50);
        }
    }

    public Task<Connection> WaitForAsync(string connectionId, Func<Connection, bool> condition) =>
        Eventually(() => GetAsync(connectionId), condition);

    public Task<List<Connection>> WaitForListingAsync(string pool, int count) =>
        Eventually(() => ListAsync(pool), l => l.Count == count);
}
