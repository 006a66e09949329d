using System.ComponentModel.DataAnnotations;
using System.Net;
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
public sealed class ControllerSiloOptions : IValidatableObject
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

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Plain-HTTP port for the kubelet and the metrics scraper: /healthz, /readyz and /metrics are served there and
    /// nowhere else, and nothing else is served there (so a NetworkPolicy can open /metrics to the monitoring namespace
    /// alone). 0 (the default): those three are served on the host's own endpoints.
    /// </summary>
    [Range(0, 65535)]
    public int ProbePort { get; set; }

    /// <summary>The IP other silos reach this one on (Kubernetes: the pod IP), and the only one the silo and Orleans
    /// gateway ports listen on. Default: loopback with localhost clustering, the host's DNS address otherwise.</summary>
    public string? AdvertisedAddress { get; set; }

    private const string P = Section + ":";

    /// <summary>The rules [Range] cannot say: between settings, kinds and formats (addresses, Redis strings, TLS files).</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var o = this;
        if (string.IsNullOrWhiteSpace(o.Region)) yield return new ValidationResult($"{P}Region must not be empty");
        if (!Enum.IsDefined(o.Role)) yield return new ValidationResult($"{P}Role must be bank or scheme");
        if (!Enum.IsDefined(o.Clustering)) yield return new ValidationResult($"{P}Clustering must be localhost or redis");
        if (!Enum.IsDefined(o.Storage)) yield return new ValidationResult($"{P}Storage must be memory or redis");
        if (!Enum.IsDefined(o.Streams)) yield return new ValidationResult($"{P}Streams must be memory or kafka");
        if (o.Streams == StreamsKind.Kafka && (o.Kafka ?? new()).FindProblem() is { } kafka)
            yield return new ValidationResult($"{P}Kafka:{kafka} (required when {P}Streams is kafka)");
        var tls = o.SiloTls ?? new();
        if (tls.FindProblem() is { } tlsProblem)
            yield return new ValidationResult($"{P}SiloTls:{tlsProblem}");
        // The gateway refuses plain text off loopback for its ports; the silo ports follow it.
        if (o.Clustering == ClusteringKind.Redis && !tls.Enabled && !tls.AllowInsecure
            && o.AdvertisedAddress is not null && IPAddress.TryParse(o.AdvertisedAddress, out var advertised) && !IPAddress.IsLoopback(advertised))
            yield return new ValidationResult($"{P}AdvertisedAddress '{o.AdvertisedAddress}' is not loopback and {P}SiloTls:Enabled is false; " +
                         $"configure silo TLS, or set {P}SiloTls:AllowInsecure=true for local experiments only");
        if ((o.Membership ?? new()).FindProblem() is { } membership)
            yield return new ValidationResult($"{P}Membership:{membership}");
        if ((o.Kubernetes ?? new()).FindProblem() is { } kubernetes)
            yield return new ValidationResult($"{P}Kubernetes:{kubernetes}");
        var needsRedis = o.Clustering == ClusteringKind.Redis || o.Storage == StorageKind.Redis;
        if (needsRedis && string.IsNullOrWhiteSpace(o.Redis))
            yield return new ValidationResult($"{P}Redis (a connection string) is required when {P}Clustering or {P}Storage is redis");
        if (needsRedis && (o.RedisTls ?? new()).FindProblem() is { } redisTls)
            yield return new ValidationResult($"{P}RedisTls:{redisTls}");
        if (needsRedis && !string.IsNullOrWhiteSpace(o.Redis) && ControllerRedis.FindProblem(o.Redis, o.RedisTls ?? new(), P) is { } redis)
            yield return new ValidationResult(redis);
        if (string.IsNullOrWhiteSpace(o.ClusterId)) yield return new ValidationResult($"{P}ClusterId must not be empty");
        if (string.IsNullOrWhiteSpace(o.ServiceId)) yield return new ValidationResult($"{P}ServiceId must not be empty");
        if (o.SiloPort == o.GatewayPort) yield return new ValidationResult($"{P}GatewayPort must differ from {P}SiloPort");
        if (o.ProbePort != 0 && (o.ProbePort == o.SiloPort || o.ProbePort == o.GatewayPort))
            yield return new ValidationResult($"{P}ProbePort must differ from {P}SiloPort and {P}GatewayPort");
        if (o.AdvertisedAddress is not null && !IPAddress.TryParse(o.AdvertisedAddress, out _))
            yield return new ValidationResult($"{P}AdvertisedAddress must be an IP address (was '{o.AdvertisedAddress}')");
    }
}
