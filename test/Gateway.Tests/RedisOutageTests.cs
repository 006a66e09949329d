using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Grains.Tests.Infrastructure;
using Xunit.Abstractions;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// The controller on Redis clustering and storage while its Redis (append-only file on) is killed with kill -9 and
/// started again: the sidecar stream stays up and every message the cluster cannot handle meanwhile is refused on its
/// own with a retryable UNAVAILABLE naming the reason, never INTERNAL; registrations likewise.
/// </summary>
public sealed class RedisOutageTests(ITestOutputHelper output)
{
    // Issue 15 saw INTERNAL from about 22 s of a 30 s outage; 10 s here keeps CI quick and still covers the failed
    // heartbeat persists (every second below), the dropped activations and the failed re-activations they cause.
    // ORLEANSCONTROL_REDIS_OUTAGE_SECONDS=30 runs the issue's 30 s by hand.
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("ORLEANSCONTROL_REDIS_OUTAGE_SECONDS"), out var s) && s > 0 ? s : 10);

    [Fact]
    public async Task Redis_killed_for_a_while_ends_no_stream_and_answers_unavailable_not_internal()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var host = await GatewayHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Controller:Clustering"] = "redis",
            ["Controller:Storage"] = "redis",
            ["Controller:Redis"] = redis.ConnectionString,
            ["Controller:AdvertisedAddress"] = "127.0.0.1",
            ["Controller:Health:HeartbeatInterval"] = "00:00:01",
            ["Controller:Health:MissedHeartbeatsBeforeFailed"] = "60",
            ["Controller:Health:HeartbeatPersistInterval"] = "00:00:01",
            // In process: the test host must never be the process that exits (the table survives on the AOF anyway).
            ["Controller:MembershipWatch:ExitAfter"] = "01:00:00",
        });
        using var channel = GrpcChannel.ForAddress(host.GrpcAddress);
        var pools = new ServerPoolService.ServerPoolServiceClient(channel);
        var controller = new ControllerService.ControllerServiceClient(channel);
        for (var i = 0; i < 2; i++)
            await pools.AddServerAsync(new AddServerRequest
            {
                ServerPool = "outage",
                Server = new ServerInstance { ServerId = $"srv-{i}", Address = $"10.0.0.{i + 1}:5000", Zone = $"zone-{i}", Capacity = 100 },
            }, Operator);
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
            ids.Add((await controller.RegisterConnectionAsync(new RegisterConnectionRequest
            {
                ClientId = $"bank-{i}",
                ServerPool = "outage",
                PreferredServer = "srv-0",
                SidecarId = "sidecar-8",
            }, Operator)).Connection.ConnectionId);
        var (stream, _) = await SidecarStream.AttachAsync(new SidecarService.SidecarServiceClient(channel), Sidecar(8), "sidecar-8");
        await using var _ = stream;
        foreach (var id in ids) await stream.SignedOnHeartbeatAsync(id, "10.0.0.1:5000");

        // Everything the stream says while Redis is down and after: collected in the background.
        var rejections = new List<Rejected>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var message = await stream.NextAsync(TimeSpan.FromMilliseconds(200)); // throws if the stream ended
                if (message?.Rejected is { } r) lock (rejections) rejections.Add(r);
            }
        });

        await redis.KillAsync();
        var clock = Stopwatch.StartNew();
        var registrations = new List<StatusCode>();
        var took = new List<TimeSpan>();
        var n = 0;
        while (clock.Elapsed < Outage)
        {
            foreach (var id in ids) await stream.SignedOnHeartbeatAsync(id, "10.0.0.1:5000");
            if (n++ % 5 == 0)
            {
                var asked = Stopwatch.StartNew();
                registrations.Add(await RegisterAsync(controller, $"bank-outage-{n}"));
                took.Add(asked.Elapsed);
            }
            await Task.Delay(250);
        }
        await redis.StartAgainAsync();
        output.WriteLine($"Redis down {clock.Elapsed.TotalSeconds:F1} s; registrations answered [{string.Join(", ", registrations.Zip(took, (c, t) => $"{c} in {t.TotalMilliseconds:F0} ms"))}]");

        // Once Redis is back the heartbeats are taken again, on the same stream: every connection Active (a state whose
        // write failed in the outage was dropped with its activation and reloaded; the next heartbeats follow the link).
        await Eventually.Until(async () =>
        {
            foreach (var id in ids) await stream.SignedOnHeartbeatAsync(id, "10.0.0.1:5000");
            await Task.Delay(300);
            try
            {
                var states = await Task.WhenAll(ids.Select(id => controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = id }, Operator).ResponseAsync));
                return states.All(c => c.Status == ConnectionStatus.Active);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                return false; // Redis still reloading its append-only file: retryable, as the answer says
            }
        }, active => active, TimeSpan.FromSeconds(30));
        int settled;
        lock (rejections) settled = rejections.Count;
        foreach (var id in ids) await stream.SignedOnHeartbeatAsync(id, "10.0.0.1:5000");
        await Task.Delay(1000);
        lock (rejections) Assert.Equal(settled, rejections.Count);
        Assert.Equal(StatusCode.OK, await RegisterAsync(controller, "bank-after"));
        await stop.CancelAsync();
        await reader; // rethrows if the stream ended at any point

        Rejected[] seen;
        lock (rejections) seen = [.. rejections];
        output.WriteLine($"{seen.Length} messages refused: {string.Join(" | ", seen.Select(r => $"{r.Code} {r.Message}").Distinct().Take(6))}");
        // The outage reached the grains: registrations were refused UNAVAILABLE (asserted below). Heartbeats that only
        // touch memory are taken through the outage (their state is written by the grain's timer, not in the call), so
        // the stream may refuse none; any it refuses must be UNAVAILABLE and name the connection.
        Assert.All(seen, r => Assert.Equal("UNAVAILABLE", r.Code));
        Assert.All(seen, r => Assert.Contains(ids, id => id == r.ConnectionId));
        Assert.DoesNotContain(StatusCode.Internal, registrations);
        Assert.Contains(StatusCode.Unavailable, registrations);
    }

    private static async Task<StatusCode> RegisterAsync(ControllerService.ControllerServiceClient controller, string client)
    {
        try
        {
            await controller.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = client, ServerPool = "outage" },
                new CallOptions(Operator, DateTime.UtcNow.AddSeconds(20)));
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
