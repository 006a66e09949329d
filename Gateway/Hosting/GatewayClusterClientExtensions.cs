using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansControl.GrainInterfaces.Streams;
using StackExchange.Redis;

namespace OrleansControl.Gateway.Hosting;

/// <summary>The stand-alone deployment: the gateway as an Orleans client of the controller silos.</summary>
public static class GatewayClusterClientExtensions
{
    /// <summary>Adds an Orleans client configured from <c>Gateway:Cluster</c>. Call instead of AddControllerSilo, before AddControllerGateway.</summary>
    public static WebApplicationBuilder AddControllerClusterClient(this WebApplicationBuilder builder)
    {
        var o = builder.Configuration.GetSection(GatewayClusterClientOptions.SectionName).Get<GatewayClusterClientOptions>()
                ?? new GatewayClusterClientOptions();
        var problems = new List<string>();
        if (o.Clustering is not ("localhost" or "redis")) problems.Add($"{GatewayClusterClientOptions.SectionName}:Clustering must be localhost or redis");
        if (o.Clustering == "redis" && string.IsNullOrWhiteSpace(o.Redis))
            problems.Add($"{GatewayClusterClientOptions.SectionName}:Redis is required with redis clustering");
        if (o.SiloGatewayPort is < 1 or > 65535) problems.Add($"{GatewayClusterClientOptions.SectionName}:SiloGatewayPort must be 1..65535");
        if (problems.Count > 0) throw new OptionsValidationException(GatewayClusterClientOptions.SectionName, typeof(GatewayClusterClientOptions), problems);

        builder.UseOrleansClient(client =>
        {
            if (o.Clustering == "redis")
            {
                client.UseRedisClustering(r => r.ConfigurationOptions = ConfigurationOptions.Parse(o.Redis!));
                client.Configure<ClusterOptions>(c =>
                {
                    c.ClusterId = o.ClusterId;
                    c.ServiceId = o.ServiceId;
                });
            }
            else
            {
                client.UseLocalhostClustering(o.SiloGatewayPort, o.ServiceId, o.ClusterId);
            }
            // Traces follow gateway calls into the grains (Activity.Current as the grain call's parent).
            client.AddActivityPropagation();
            // WatchConnections subscribes to the grains' status stream.
            client.AddMemoryStreams(ControllerStreams.ProviderName);
        });
        return builder;
    }
}
