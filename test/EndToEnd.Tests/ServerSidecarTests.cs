using System.Diagnostics;
using OrleansControl.EndToEnd.Tests.Processes;
using OrleansControl.Grains.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// The scheme's server-side sidecars (Sidecar/Host in server mode, one beside each scheme server) declare their servers
/// to the controller on every attach: a controller killed and started again relearns its pool from them, and new
/// registrations succeed without an operator re-adding anything. All real processes; Redis a real redis-server.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class ServerSidecarTests(ITestOutputHelper output)
{
    private const string Pool = "scheme";

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task A_restarted_controller_relearns_its_pool_from_the_server_sidecars_and_registrations_succeed(string storage)
    {
        await using var redis = storage == "redis" ? await RedisServer.StartAsync() : null;
        var settings = redis is null ? null : new Dictionary<string, string>
        {
            ["Controller__Storage"] = "redis",
            ["Controller__Redis"] = redis.ConnectionString,
        };
        using var a = await SchemeServerProcess.StartAsync("srv-a", "zone-a");
        using var b = await SchemeServerProcess.StartAsync("srv-b", "zone-b");
        using var controller = await ControllerProcess.StartAsync(TimeSpan.FromSeconds(2), settings);
        using var sidecarA = await SidecarHostProcess.StartForServerAsync(controller.GrpcAddress, "server-sidecar-a", Pool, a);
        using var sidecarB = await SidecarHostProcess.StartForServerAsync(controller.GrpcAddress, "server-sidecar-b", Pool, b);
        string Diagnostics() => string.Join(Environment.NewLine, controller.Tail(), sidecarA.Tail(), sidecarB.Tail());
        async Task<string> Servers() => string.Join(",", (await controller.Rest.ListServersAsync(Pool))
            .Select(s => $"{s.ServerId}@{s.Address}:{(s.Healthy ? "healthy" : "not healthy")}").Order(StringComparer.Ordinal));
        var expected = $"srv-a@{a.Address}:healthy,srv-b@{b.Address}:healthy";

        // Nobody adds the servers: their sidecars do, when they attach.
        await Eventually.Until(Servers, s => s == expected, "the pool declared by the server sidecars", TimeSpan.FromSeconds(20), Diagnostics);
        var first = await controller.Rest.RegisterAsync("conn-1", "bank-a", Pool, "srv-a");
        Assert.Equal("srv-a", first.ServerId);
        // A server only an operator declared (no sidecar beside it): it persists where the storage does.
        await controller.Rest.AddServerAsync(Pool, "srv-op", "127.0.0.1:1", "zone-c");

        await controller.RestartAsync();
        var clock = Stopwatch.StartNew();
        var relearnt = await Eventually.Until(Servers, s => s.StartsWith(expected, StringComparison.Ordinal),
            "the pool relearnt after the restart", TimeSpan.FromSeconds(20), Diagnostics);
        output.WriteLine($"{storage}: pool relearnt {clock.ElapsedMilliseconds} ms after the restarted controller was ready: {relearnt}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the pool took {clock.Elapsed.TotalSeconds:F1} s to be relearnt");

        // A new registration succeeds at once, on a server the sidecars declared.
        var next = await controller.Rest.RegisterAsync("conn-2", "bank-b", Pool, "srv-b");
        Assert.Equal(("srv-b", b.Address), (next.ServerId, next.ServerAddress));

        if (storage == "redis")
        {
            Assert.Contains("srv-op@127.0.0.1:1", relearnt);
            Assert.Equal("srv-a", (await controller.Rest.GetConnectionAsync("conn-1"))?.ServerId);
        }
        else
        {
            Assert.DoesNotContain("srv-op", relearnt); // memory: what only an operator declared is gone with the process
        }
    }
}
