using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Silo;

public sealed class SiloHostTests
{
    [Fact]
    public async Task Default_configuration_starts_a_ready_silo_with_health_and_metrics()
    {
        await using var app = SiloHost.Build(SiloHost.Ports());
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = SiloHost.BaseAddress(app) };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        var ready = await TestSettings.EventuallyAsync(() => http.GetAsync("/readyz"), r => r.IsSuccessStatusCode, TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        var grains = app.Services.GetRequiredService<IGrainFactory>();
        await Scenario.TwoZonePoolAsync(grains, out var poolId);
        await Scenario.ActiveAsync(grains, poolId);

        var metrics = await TestSettings.EventuallyAsync(() => http.GetStringAsync("/metrics"),
            m => m.Contains("orleanscontrol_heartbeats", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.Contains("orleanscontrol_heartbeats", metrics, StringComparison.Ordinal);
        Assert.Contains("orleanscontrol_connections", metrics, StringComparison.Ordinal);
        Assert.Contains("otel_scope_name=\"Microsoft.Orleans\"", metrics, StringComparison.Ordinal);
        await app.StopAsync();
    }

    [Fact]
    public async Task Redis_clustering_binds_the_orleans_ports_to_the_advertised_address_not_every_interface()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = SiloHost.Ports();
        settings["Controller:Clustering"] = "redis";
        settings["Controller:Redis"] = redis.ConnectionString;
        settings["Controller:AdvertisedAddress"] = "127.0.0.1";
        settings["Controller:ClusterId"] = $"bind-test-{Guid.NewGuid():N}";
        await using var app = SiloHost.Build(settings);
        await app.StartAsync();

        var ports = new[] { int.Parse(settings["Controller:SiloPort"]!), int.Parse(settings["Controller:GatewayPort"]!) };
        var bound = ListeningSockets.Of(Environment.ProcessId).Where(e => ports.Contains(e.Port)).ToList();
        Assert.Equal(ports.Order(), bound.Select(e => e.Port).Order());
        Assert.All(bound, e => Assert.Equal(IPAddress.Loopback, e.Address));
        await app.StopAsync();
    }

    [Fact]
    public async Task Redis_configuration_runs_on_redis_clustering_storage_and_projection()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = SiloHost.Ports();
        settings["Controller:Clustering"] = "redis";
        settings["Controller:Storage"] = "redis";
        settings["Controller:Redis"] = redis.ConnectionString;
        settings["Controller:AdvertisedAddress"] = "127.0.0.1";
        settings["Controller:ClusterId"] = "host-test";
        await using var app = SiloHost.Build(settings);
        await app.StartAsync();

        var grains = app.Services.GetRequiredService<IGrainFactory>();
        await Scenario.TwoZonePoolAsync(grains, out var poolId);
        var connection = await Scenario.ActiveAsync(grains, poolId);

        Assert.Contains("host-test", await redis.CliAsync("--scan", "--pattern", "*members*"), StringComparison.Ordinal);
        Assert.Contains("active", await redis.CliAsync("HGET", $"connections:{connection.GetPrimaryKeyString()}", "status"), StringComparison.Ordinal);
        Assert.Equal(ConnectionStatus.Active, (await connection.GetState()).Status);
        await app.StopAsync();
    }
}
