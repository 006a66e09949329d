using System.Net;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains;
using OrleansControl.Grains.Connections;
using OrleansControl.Grains.Hosting;
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
        var section = builder.Configuration.GetSection(ControllerSiloOptions.Section);
        var healthSection = section.GetSection("Health");
        var options = ReadValidated<ControllerSiloOptions>(section);
        var health = ReadValidated<ConnectionHealthOptions>(healthSection);

        var validator = new ControllerSiloOptionsValidator();
        builder.Services.AddSingleton<IValidateOptions<ControllerSiloOptions>>(validator);
        builder.Services.AddSingleton<IValidateOptions<ConnectionHealthOptions>>(validator);
        builder.Services.AddOptions<ControllerSiloOptions>().Bind(section).ValidateOnStart();
        builder.Services.AddOptions<ConnectionHealthOptions>().Bind(healthSection).ValidateOnStart();

        builder.Services.AddControllerGrains();
        if (options.Storage == StorageKind.Redis)
            builder.Services.AddRedisConnectionProjection(options.Redis!);

        builder.UseOrleans(silo =>
        {
            silo.ConfigureClustering(options);
            silo.ConfigureStorage(options, health);
            silo.AddMemoryStreams(ControllerStreams.ProviderName);
            configureSilo?.Invoke(silo);
        });

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddHealthChecks().AddCheck<SiloReadinessCheck>("silo", tags: ["ready"]);
        builder.AddControllerTelemetry();
        return builder;
    }

    /// <summary>/healthz (process alive), /readyz (silo active), /metrics (Prometheus).</summary>
    public static WebApplication MapControllerSilo(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    private static void ConfigureClustering(this ISiloBuilder silo, ControllerSiloOptions o)
    {
        if (o.Clustering == ClusteringKind.Localhost)
        {
            silo.UseLocalhostClustering(o.SiloPort, o.GatewayPort, serviceId: o.ServiceId, clusterId: o.ClusterId);
            return;
        }
        silo.UseRedisClustering(r => r.ConfigurationOptions = ConfigurationOptions.Parse(o.Redis!));
        silo.Configure<ClusterOptions>(c =>
        {
            c.ClusterId = o.ClusterId;
            c.ServiceId = o.ServiceId;
        });
        if (o.AdvertisedAddress is not null)
            silo.ConfigureEndpoints(IPAddress.Parse(o.AdvertisedAddress), o.SiloPort, o.GatewayPort, listenOnAnyHostAddress: true);
        else
            silo.ConfigureEndpoints(o.SiloPort, o.GatewayPort, listenOnAnyHostAddress: true);
    }

    private static void ConfigureStorage(this ISiloBuilder silo, ControllerSiloOptions o, ConnectionHealthOptions health)
    {
        if (o.Storage == StorageKind.Redis)
        {
            silo.AddRedisGrainStorage(ControllerStorage.Name, r => r.ConfigurationOptions = ConfigurationOptions.Parse(o.Redis!));
            silo.AddRedisGrainStorage(ControllerStorage.PubSub, r => r.ConfigurationOptions = ConfigurationOptions.Parse(o.Redis!));
            silo.UseRedisReminderService(r => r.ConfigurationOptions = ConfigurationOptions.Parse(o.Redis!));
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

    /// <summary>Binds and validates at build time: the providers chosen here depend on these values.</summary>
    private static T ReadValidated<T>(IConfigurationSection section) where T : class, new()
    {
        T value;
        try
        {
            value = section.Get<T>() ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key ("... at 'Controller:Clustering' ...").
            throw new OptionsValidationException(section.Path, typeof(T), [ex.Message]);
        }
        var validator = new ControllerSiloOptionsValidator();
        var result = value switch
        {
            ControllerSiloOptions s => validator.Validate(null, s),
            ConnectionHealthOptions h => validator.Validate(null, h),
            _ => ValidateOptionsResult.Success,
        };
        if (result.Failed)
            throw new OptionsValidationException(section.Path, typeof(T), result.Failures);
        return value;
    }
}
