using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>Registers the Kubernetes actions the pools' scalers use, from validated <see cref="KubernetesOptions"/>.</summary>
public static class KubernetesHosting
{
    public static IServiceCollection AddKubernetesActions(this IServiceCollection services, KubernetesOptions options)
    {
        services.AddSingleton<IOptions<KubernetesOptions>>(Options.Create(options));
        services.TryAddSingleton<KubernetesMetrics>();
        if (!options.Enabled)
            return services;
        if (options.DryRun)
        {
            services.AddSingleton(sp => new DryRunServerActions(options, sp.GetRequiredService<ILogger<DryRunServerActions>>()));
            services.AddSingleton<IServerScaler>(sp => sp.GetRequiredService<DryRunServerActions>());
            services.AddSingleton<IPodRotation>(sp => sp.GetRequiredService<DryRunServerActions>());
            return services;
        }
        services.AddSingleton<IKubernetes>(_ => new k8s.Kubernetes(ClientConfiguration(options)));
        services.AddSingleton(sp => new KubernetesServerActions(sp.GetRequiredService<IKubernetes>(), options,
            sp.GetRequiredService<ILogger<KubernetesServerActions>>(), sp.GetRequiredService<KubernetesMetrics>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IServerScaler>(sp => sp.GetRequiredService<KubernetesServerActions>());
        services.AddSingleton<IPodRotation>(sp => sp.GetRequiredService<KubernetesServerActions>());
        return services;
    }

    /// <summary>The pod's service account in-cluster, or a kubeconfig (e.g. from a Secret) for another cluster.</summary>
    public static KubernetesClientConfiguration ClientConfiguration(KubernetesOptions options) =>
        options.Connection == KubernetesConnection.Kubeconfig
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(options.KubeconfigPath, string.IsNullOrWhiteSpace(options.Context) ? null : options.Context)
            : KubernetesClientConfiguration.InClusterConfig();
}
