using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Relay;

namespace OrleansControl.Sidecar.Hosting;

/// <summary>How a host composes the sidecar: the link, its agent, the optional local relay, the control endpoint.</summary>
public static class SidecarHostingExtensions
{
    /// <summary>
    /// Registers the <see cref="IsoClient"/> (from <c>Sidecar:Link</c>), the <see cref="SidecarAgent"/>
    /// (<c>Sidecar:Agent</c>) and the <see cref="SidecarRelay"/> (<c>Sidecar:Relay</c>), each validated on start.
    /// An <see cref="IInboundHandler"/> registered by the application receives the peer's requests and late responses.
    /// </summary>
    public static IServiceCollection AddSidecar(this IServiceCollection services)
    {
        // One way, as everywhere: BindConfiguration (the host's IConfiguration) + ValidateOnStart.
        services.AddOptions<IsoClientOptions>().BindConfiguration(IsoClientOptions.Section).ValidateOnStart();
        services.AddOptions<SidecarAgentOptions>().BindConfiguration(SidecarAgentOptions.Section).ValidateOnStart();
        services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IsoClientOptions>, IsoClientOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SidecarAgentOptions>, SidecarAgentOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RelayOptions>, RelayOptionsValidator>());

        services.TryAddSingleton(sp => new IsoClient(
            sp.GetRequiredService<IOptions<IsoClientOptions>>().Value,
            sp.GetService<IInboundHandler>(),
            sp.GetRequiredService<ILogger<IsoClient>>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<SidecarAgent>();
        services.AddHostedService(sp => sp.GetRequiredService<SidecarAgent>());
        services.TryAddSingleton<SidecarRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<SidecarRelay>());
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        return services;
    }
}
