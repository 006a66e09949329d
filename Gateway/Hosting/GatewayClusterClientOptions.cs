namespace OrleansControl.Gateway.Hosting;

/// <summary>
/// Section <c>Gateway:Cluster</c>: how a stand-alone gateway (not co-hosted in a silo) finds the silos.
/// Must match the silos' <c>Controller:*</c> settings.
/// </summary>
public sealed class GatewayClusterClientOptions
{
    public const string SectionName = "Gateway:Cluster";

    /// <summary><c>localhost</c> (a silo on this machine) or <c>redis</c>.</summary>
    public string Clustering { get; set; } = "localhost";

    /// <summary>StackExchange.Redis connection string (redis clustering).</summary>
    public string? Redis { get; set; }

    public string ClusterId { get; set; } = "orleanscontrol";

    public string ServiceId { get; set; } = "orleanscontrol";

    /// <summary>The silo's Orleans gateway port (localhost clustering).</summary>
    public int SiloGatewayPort { get; set; } = 30000;
}
