using Orleans.Dashboard;
using System.Net;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Persistence;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains;
using OrleansControl.Grains.Connections;
using OrleansControl.Grains.Hosting;
using OrleansControl.Grains.Kubernetes;
using OrleansControl.Grains.Pools;
using OrleansControl.Silo.Membership;
using StackExchange.Redis;

namespace OrleansControl.Silo.Extensions;

/// <summary>
/// Composes the controller silo on an ASP.NET Core host: options, Orleans (clustering, storage, reminders, streams),
/// health endpoints and telemetry. Program.cs calls these; tests call them to build a full in-process host.
/// </summary>
public static class SiloHosting
{
    public static WebApplicationBuilder AddControllerSilo(this WebApplicationBuilder builder, Action<ISiloBuilder>? configureSilo = null)
    {
        builder.Configuration.AddConsoleLogDefaults();
        var section = builder.Configuration.GetSection(ControllerSiloOptions.Section);
        var healthSection = section.GetSection("Health");
        // Every section is read and checked before any is refused, so one start names every bad setting.
        var failures = new List<string>();
        var options = ReadValidated<ControllerSiloOptions>(section, failures);
        var health = ReadValidated<ConnectionHealthOptions>(healthSection, failures);
        ReadValidated<ServerEjectionOptions>(builder.Configuration.GetSection(ServerEjectionOptions.Section), failures);
        try
        {
            TelemetryExtensions.OtlpEndpoint(builder.Configuration);
        }
        catch (OptionsValidationException ex)
        {
            failures.AddRange(ex.Failures);
        }
        if (failures.Count > 0)
            throw new OptionsValidationException(ControllerSiloOptions.Section, typeof(ControllerSiloOptions), failures);

        var validator = new ControllerSiloOptionsValidator();
        builder.Services.AddSingleton<IValidateOptions<ControllerSiloOptions>>(validator);
        builder.Services.AddSingleton<IValidateOptions<ConnectionHealthOptions>>(validator);
        builder.Services.AddOptions<ControllerSiloOptions>().BindConfiguration(ControllerSiloOptions.Section).ValidateOnStart();
        builder.Services.AddOptions<ConnectionHealthOptions>().ValidateOnStart(); // values: AddControllerProviders
        builder.Services.AddSingleton<IValidateOptions<ServerEjectionOptions>>(validator);
        builder.Services.AddOptions<ServerEjectionOptions>().BindConfiguration(ServerEjectionOptions.Section).ValidateOnStart();
        if (options.Clustering == ClusteringKind.Redis)
            builder.Services.AddMembershipTableWatch();

        builder.UseOrleans(silo =>
        {
            silo.UseControllerClustering(options);
            silo.UseControllerSiloTls(options.SiloTls ?? new());
            silo.AddControllerProviders(options, health);
            if (options.Dashboard) silo.AddDashboard();
            configureSilo?.Invoke(silo);
        });

        if (options.ProbePort > 0)
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(options.ProbePort));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddHealthChecks().AddCheck<SiloReadinessCheck>("silo", tags: ["ready"]);
        builder.AddControllerTelemetry(options);
        return builder;
    }

    /// <summary>/healthz (process alive), /readyz (silo active), /metrics (Prometheus); on the probe port alone when set.</summary>
    public static WebApplication MapControllerSilo(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ControllerSiloOptions>>().Value;
        if (options.ProbePort > 0)
        {
            // Decided on the local port the connection arrived at, not the Host header (which the caller chooses).
            app.Use((context, next) =>
            {
                var onProbePort = context.Connection.LocalPort == options.ProbePort;
                var probePath = context.Request.Path.Value is "/healthz" or "/readyz" or "/metrics";
                if (onProbePort == probePath)
                    return next(context);
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        }
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansControl.Silo");
        app.Lifetime.ApplicationStarted.Register(() => SiloLog.Started(
            logger, options.Region, options.Role, options.Clustering, options.Storage, options.Streams, options.ClusterId));
        app.Lifetime.ApplicationStopping.Register(() => SiloLog.Stopping(logger));
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>
    /// Everything but clustering: the grains' services and options, grain storage, reminders, streams and the
    /// projection. Public so test clusters (which bring their own membership) compose exactly what production runs.
    /// </summary>
    public static ISiloBuilder AddControllerProviders(this ISiloBuilder silo, ControllerSiloOptions options, ConnectionHealthOptions health)
    {
        // Activity.Current flows through grain calls (spans from Orleans' application source when traced).
        silo.AddActivityPropagation();
        silo.Services.AddControllerGrains();
        silo.Services.AddKubernetesActions(options.Kubernetes ?? new());
        silo.Services.Configure<ConnectionHealthOptions>(h => Copy(health, h));
        if (options.Storage == StorageKind.Redis)
        {
            silo.Services.AddRedisConnectionProjection(() => ControllerRedis.Configuration(options));
            silo.Services.AddRedisServerPoolProjection(() => ControllerRedis.Configuration(options), options.Region);
        }
        silo.ConfigureStorage(options, health);
        silo.AddControllerStreams(options);
        return silo;
    }

    /// <summary>Localhost (single machine) or Redis membership, with cluster id, service id and endpoints.</summary>
    public static ISiloBuilder UseControllerClustering(this ISiloBuilder silo, ControllerSiloOptions o)
    {
        if (o.Clustering == ClusteringKind.Localhost)
        {
            return silo.UseLocalhostClustering(o.SiloPort, o.GatewayPort, serviceId: o.ServiceId, clusterId: o.ClusterId);
        }
        silo.UseRedisClustering(r => r.ConfigurationOptions = ControllerRedis.Configuration(o));
        silo.Configure<ClusterOptions>(c =>
        {
            c.ClusterId = o.ClusterId;
            c.ServiceId = o.ServiceId;
        });
        silo.Configure<ClusterMembershipOptions>((o.Membership ?? new()).ApplyTo);
        // Listen where we advertise, never on every interface: the pod IP in Kubernetes (AdvertisedAddress), else the
        // address Orleans resolves for the host name. (Localhost clustering, above, is loopback only.)
        if (o.AdvertisedAddress is not null)
            silo.ConfigureEndpoints(IPAddress.Parse(o.AdvertisedAddress), o.SiloPort, o.GatewayPort, listenOnAnyHostAddress: false);
        else
            silo.ConfigureEndpoints(o.SiloPort, o.GatewayPort, listenOnAnyHostAddress: false);
        return silo;
    }

    private static void ConfigureStorage(this ISiloBuilder silo, ControllerSiloOptions o, ConnectionHealthOptions health)
    {
        if (o.Storage == StorageKind.Redis)
        {
            // Orleans' binary serializer: version-tolerant through [Id]s, exact round trips (JSON truncates
            // DateTimeOffset), and cheaper on the heartbeat-persist path. Non-.NET readers use the projection instead.
            foreach (var name in new[] { ControllerStorage.Name, ControllerStorage.PubSub })
            {
                silo.AddRedisGrainStorage(name, (OptionsBuilder<RedisStorageOptions> storage) => storage.Configure<Serializer>((r, serializer) =>
                {
                    r.ConfigurationOptions = ControllerRedis.Configuration(o);
                    r.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                }));
                silo.Services.TranslateStorageFaults(name); // Redis down: UNAVAILABLE, not INTERNAL (docs/gateway.md)
            }
            silo.UseRedisReminderService(r => r.ConfigurationOptions = ControllerRedis.Configuration(o));
        }
        else
        {
            silo.AddMemoryGrainStorage(ControllerStorage.Name);
            silo.AddMemoryGrainStorage(ControllerStorage.PubSub);
            silo.UseInMemoryReminderService();
        }
        // The heartbeat backstop reminder may be shorter than Orleans' 1-minute default minimum (docs/grains.md).
        silo.Configure<ReminderOptions>(r => r.MinimumReminderPeriod = health.BackstopPeriod < r.MinimumReminderPeriod
            ? health.BackstopPeriod
            : r.MinimumReminderPeriod);
    }

    private static IEnumerable<string> UnconvertibleSettings(IConfigurationSection section, Type type)
    {
        foreach (var property in type.GetProperties().Where(p => p.CanWrite))
        {
            var child = section.GetSection(property.Name);
            if (!child.Exists())
                continue;
            string? failure = null;
            try
            {
                child.Get(property.PropertyType);
            }
            catch (InvalidOperationException ex)
            {
                failure = ex.Message;
            }
            if (failure is not null)
                yield return failure;
        }
    }

    private static void Copy(ConnectionHealthOptions from, ConnectionHealthOptions to)
    {
        to.HeartbeatInterval = from.HeartbeatInterval;
        to.MissedHeartbeatsBeforeFailed = from.MissedHeartbeatsBeforeFailed;
        to.HeartbeatPersistInterval = from.HeartbeatPersistInterval;
        to.BackstopPeriod = from.BackstopPeriod;
        to.DegradedBelow = from.DegradedBelow;
        to.RecoveredAtOrAbove = from.RecoveredAtOrAbove;
        to.HistoryLength = from.HistoryLength;
        to.AutoFailover = from.AutoFailover;
        to.MoveDeadline = from.MoveDeadline;
        to.MaxMoveAttempts = from.MaxMoveAttempts;
        to.NoTargetRetryInitial = from.NoTargetRetryInitial;
        to.NoTargetRetryMax = from.NoTargetRetryMax;
        to.PoolCallDeadline = from.PoolCallDeadline;
        to.PoolReplicaRefresh = from.PoolReplicaRefresh;
    }

    /// <summary>Binds and validates at build time (the providers chosen here depend on these values); adds what is wrong to <paramref name="failures"/>.</summary>
    private static T ReadValidated<T>(IConfigurationSection section, List<string> failures) where T : class, new()
    {
        T value;
        try
        {
            value = section.Get<T>() ?? new T();
        }
        catch (InvalidOperationException)
        {
            // The binder stops at the first value it cannot convert; each setting on its own names them all (its
            // message names the key: "... at 'Controller:Clustering' ...").
            failures.AddRange(UnconvertibleSettings(section, typeof(T)));
            return new T();
        }
        var validator = new ControllerSiloOptionsValidator();
        var result = value switch
        {
            ControllerSiloOptions s => validator.Validate(null, s),
            ConnectionHealthOptions h => validator.Validate(null, h),
            ServerEjectionOptions e => validator.Validate(null, e),
            _ => ValidateOptionsResult.Success,
        };
        if (result.Failed)
            failures.AddRange(result.Failures);
        return value;
    }
}
