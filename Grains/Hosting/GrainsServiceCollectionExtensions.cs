using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OrleansControl.Grains.Projection;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Hosting;

/// <summary>Services the grains need besides Orleans providers. The silo (or a test cluster) calls these.</summary>
public static class GrainsServiceCollectionExtensions
{
    /// <summary>Metrics, clock and the in-memory projections (replaced by <see cref="AddRedisConnectionProjection"/>, <see cref="AddRedisServerPoolProjection"/>).</summary>
    public static IServiceCollection AddControllerGrains(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ControllerMetrics>();
        services.TryAddSingleton<IConnectionProjection, InMemoryConnectionProjection>();
        services.TryAddSingleton<IServerPoolProjection, InMemoryServerPoolProjection>();
        services.AddOptions<Connections.ConnectionHealthOptions>();
        services.AddOptions<Pools.ServerEjectionOptions>();
        services.AddOptions<Kubernetes.KubernetesOptions>(); // disabled unless the silo calls AddKubernetesActions
        services.TryAddSingleton<Kubernetes.KubernetesMetrics>();
        services.AddSingleton<IIncomingGrainCallFilter, StorageFaultFilter>(); // what AddIncomingGrainCallFilter registers
        services.TryAddSingleton<GrainInterfaces.IGatewayHostSilo, Gateways.GatewayHostSilo>();
        return services;
    }

    /// <summary>Projects connections to Redis hashes <c>connections:{id}</c> on the given server.</summary>
    public static IServiceCollection AddRedisConnectionProjection(this IServiceCollection services, string connectionString) =>
        services.AddRedisConnectionProjection(() => StackExchange.Redis.ConfigurationOptions.Parse(connectionString));

    /// <summary>Same, with the client configuration made by the host (TLS, certificates).</summary>
    public static IServiceCollection AddRedisConnectionProjection(this IServiceCollection services, Func<StackExchange.Redis.ConfigurationOptions> configuration)
    {
        services.RemoveAll<IConnectionProjection>();
        services.AddSingleton<IConnectionProjection>(_ => new RedisConnectionProjection(configuration));
        return services;
    }

    /// <summary>
    /// Projects each pool's servers to Redis (<c>servers:{pool}:{server}</c> hashes, <c>pools:{pool}</c> sets) with the
    /// same client configuration, stamped with this silo's <paramref name="region"/>: the peer region reads server health
    /// from its replica while the gRPC link is down.
    /// </summary>
    public static IServiceCollection AddRedisServerPoolProjection(this IServiceCollection services, Func<StackExchange.Redis.ConfigurationOptions> configuration, string region)
    {
        services.RemoveAll<IServerPoolProjection>();
        services.AddSingleton<IServerPoolProjection>(_ => new RedisServerPoolProjection(configuration, region));
        return services;
    }
}
