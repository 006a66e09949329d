using System.Net;
using Microsoft.Extensions.Options;
using OrleansControl.Grains.Connections;
using OrleansControl.Grains.Pools;
using OrleansControl.Hosting;

namespace OrleansControl.Silo.Extensions;

/// <summary>Every failure names the configuration key, so a bad deployment says exactly what to fix.</summary>
public sealed class ControllerSiloOptionsValidator
    : IValidateOptions<ControllerSiloOptions>, IValidateOptions<ConnectionHealthOptions>, IValidateOptions<ServerEjectionOptions>
{
    private const string P = ControllerSiloOptions.Section + ":";

    public ValidateOptionsResult Validate(string? name, ControllerSiloOptions o)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Region)) failures.Add($"{P}Region must not be empty");
        if (!Enum.IsDefined(o.Role)) failures.Add($"{P}Role must be bank or scheme");
        if (!Enum.IsDefined(o.Clustering)) failures.Add($"{P}Clustering must be localhost or redis");
        if (!Enum.IsDefined(o.Storage)) failures.Add($"{P}Storage must be memory or redis");
        if (!Enum.IsDefined(o.Streams)) failures.Add($"{P}Streams must be memory or kafka");
        if (o.Streams == StreamsKind.Kafka && (o.Kafka ?? new()).FindProblem() is { } kafka)
            failures.Add($"{P}Kafka:{kafka} (required when {P}Streams is kafka)");
        var tls = o.SiloTls ?? new();
        if (tls.FindProblem() is { } tlsProblem)
            failures.Add($"{P}SiloTls:{tlsProblem}");
        // The gateway refuses plain text off loopback for its ports; the silo ports follow it.
        if (o.Clustering == ClusteringKind.Redis && !tls.Enabled && !tls.AllowInsecure
            && o.AdvertisedAddress is not null && IPAddress.TryParse(o.AdvertisedAddress, out var advertised) && !IPAddress.IsLoopback(advertised))
            failures.Add($"{P}AdvertisedAddress '{o.AdvertisedAddress}' is not loopback and {P}SiloTls:Enabled is false; " +
                         $"configure silo TLS, or set {P}SiloTls:AllowInsecure=true for local experiments only");
        if ((o.Membership ?? new()).FindProblem() is { } membership)
            failures.Add($"{P}Membership:{membership}");
        if ((o.Kubernetes ?? new()).FindProblem() is { } kubernetes)
            failures.Add($"{P}Kubernetes:{kubernetes}");
        var needsRedis = o.Clustering == ClusteringKind.Redis || o.Storage == StorageKind.Redis;
        if (needsRedis && string.IsNullOrWhiteSpace(o.Redis))
            failures.Add($"{P}Redis (a connection string) is required when {P}Clustering or {P}Storage is redis");
        if (needsRedis && (o.RedisTls ?? new()).FindProblem() is { } redisTls)
            failures.Add($"{P}RedisTls:{redisTls}");
        if (needsRedis && !string.IsNullOrWhiteSpace(o.Redis) && ControllerRedis.FindProblem(o.Redis, o.RedisTls ?? new(), P) is { } redis)
            failures.Add(redis);
        if (string.IsNullOrWhiteSpace(o.ClusterId)) failures.Add($"{P}ClusterId must not be empty");
        if (string.IsNullOrWhiteSpace(o.ServiceId)) failures.Add($"{P}ServiceId must not be empty");
        if (o.SiloPort is < 1 or > 65535) failures.Add($"{P}SiloPort must be 1..65535 (was {o.SiloPort})");
        if (o.GatewayPort is < 1 or > 65535) failures.Add($"{P}GatewayPort must be 1..65535 (was {o.GatewayPort})");
        if (o.SiloPort == o.GatewayPort) failures.Add($"{P}GatewayPort must differ from {P}SiloPort");
        if (o.ProbePort is < 0 or > 65535) failures.Add($"{P}ProbePort must be 0..65535 (was {o.ProbePort})");
        if (o.ProbePort != 0 && (o.ProbePort == o.SiloPort || o.ProbePort == o.GatewayPort))
            failures.Add($"{P}ProbePort must differ from {P}SiloPort and {P}GatewayPort");
        if (o.AdvertisedAddress is not null && !IPAddress.TryParse(o.AdvertisedAddress, out _))
            failures.Add($"{P}AdvertisedAddress must be an IP address (was '{o.AdvertisedAddress}')");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Generated from the options' annotations: every bad setting of the section at once, each with its full key.
    private static readonly KeyedValidator<ConnectionHealthOptions> Health = new(ConnectionHealthOptions.Section, new ConnectionHealthOptionsValidator());
    private static readonly KeyedValidator<ServerEjectionOptions> Ejection = new(ServerEjectionOptions.Section, new ServerEjectionOptionsValidator());

    public ValidateOptionsResult Validate(string? name, ConnectionHealthOptions o) => Health.Validate(name, o);

    public ValidateOptionsResult Validate(string? name, ServerEjectionOptions o) => Ejection.Validate(name, o);
}
