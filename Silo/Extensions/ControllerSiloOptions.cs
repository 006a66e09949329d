using OrleansControl.Grains.Kubernetes;
using OrleansControl.Streams.Kafka;

namespace OrleansControl.Silo.Extensions;

public enum SiloRole { Bank, Scheme }

public enum ClusteringKind { Localhost, Redis }

public enum StorageKind { Memory, Redis }

public enum StreamsKind { Memory, Kafka }

/// <summary>
/// Configuration section <c>Controller</c> (appsettings or environment, e.g. <c>Controller__Clustering=redis</c>).
/// The defaults run a single local silo in memory, so <c>dotnet run --project Silo</c> needs nothing else.
/// </summary>
public sealed class ControllerSiloOptions
{
    public const string Section = "Controller";

    public string Region { get; set; } = "local";

    public SiloRole Role { get; set; } = SiloRole.Scheme;

    public ClusteringKind Clustering { get; set; } = ClusteringKind.Localhost;

    public StorageKind Storage { get; set; } = StorageKind.Memory;

    public StreamsKind Streams { get; set; } = StreamsKind.Memory;

    /// <summary>Section <c>Controller:Kafka</c>: brokers, security, topics; required when Streams is kafka.</summary>
    public KafkaStreamOptions? Kafka { get; set; }

    /// <summary>
    /// Section <c>Controller:Kubernetes</c>: scale the pools' Deployments and take failed pods out of rotation
    /// (disabled by default; validated at start-up when enabled).
    /// </summary>
    public KubernetesOptions Kubernetes { get; set; } = new();

    /// <summary>Section <c>Controller:SiloTls</c>: TLS with client certificates between silos (and Orleans clients).</summary>
    public SiloTlsOptions SiloTls { get; set; } = new();

    /// <summary>
    /// <c>Controller:Dashboard</c>: run Orleans' own dashboard (grains, silos, method profiles) beside the web view,
    /// at <c>/ui/dashboard</c> for operators (docs/ui.md). Off by default: it profiles every grain call.
    /// </summary>
    public bool Dashboard { get; set; }

    /// <summary>Section <c>Controller:Membership</c>: how fast a dead silo is declared dead (Redis clustering).</summary>
    public MembershipTuningOptions Membership { get; set; } = new();

    /// <summary>StackExchange.Redis connection string; required when Clustering or Storage is redis.</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Section <c>Controller:RedisTls</c>: TLS to Redis (CA, client certificate) for every Redis client of the silo.
    /// Off loopback, <see cref="Redis"/> must carry AUTH (<c>password=</c>) and TLS (this, or <c>ssl=true</c>).
    /// </summary>
    public RedisTlsOptions RedisTls { get; set; } = new();

    public string ClusterId { get; set; } = "orleanscontrol";

    public string ServiceId { get; set; } = "orleanscontrol";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Plain-HTTP port for the kubelet and the metrics scraper: /healthz, /readyz and /metrics are served there and
    /// nowhere else, and nothing else is served there (so a NetworkPolicy can open /metrics to the monitoring namespace
    /// alone). 0 (the default): those three are served on the host's own endpoints.
    /// </summary>
    public int ProbePort { get; set; }

    /// <summary>The IP other silos reach this one on (Kubernetes: the pod IP), and the only one the silo and Orleans
    /// gateway ports listen on. Default: loopback with localhost clustering, the host's DNS address otherwise.</summary>
    public string? AdvertisedAddress { get; set; }
}
