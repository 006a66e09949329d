using Microsoft.Extensions.Options;

namespace OrleansControl.Gateway.Hosting;

/// <summary>Refuses start-up on settings that would be unsafe or cannot work; each message names the setting.</summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    private static readonly string[] TokenRoles = ["sidecar", "operator", "viewer"];

    public ValidateOptionsResult Validate(string? name, GatewayOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Region)) errors.Add("Gateway:Region must not be empty.");
        if (o.GrpcPort is < 0 or > 65535) errors.Add($"Gateway:GrpcPort must be 0..65535 (was {o.GrpcPort}).");
        if (o.RestPort is < 0 or > 65535) errors.Add($"Gateway:RestPort must be 0..65535 (was {o.RestPort}).");
        if (o.GrpcPort != 0 && o.GrpcPort == o.RestPort) errors.Add("Gateway:GrpcPort and Gateway:RestPort must differ.");
        if (o.HeartbeatInterval <= TimeSpan.Zero) errors.Add("Gateway:HeartbeatInterval must be positive.");
        if (o.ConfigureKestrel && !o.TlsEnabled && !o.IsLoopbackBind && !o.AllowInsecure)
        {
            errors.Add($"Gateway:BindAddress '{o.BindAddress}' is not loopback and no Gateway:Tls:CertificatePath is set; " +
                       "configure TLS, or set Gateway:AllowInsecure=true for local development only.");
        }
        if (!string.IsNullOrEmpty(o.Tls.KeyPath) && string.IsNullOrEmpty(o.Tls.CertificatePath))
            errors.Add("Gateway:Tls:KeyPath needs Gateway:Tls:CertificatePath.");

        for (var i = 0; i < o.Auth.Tokens.Count; i++)
        {
            var t = o.Auth.Tokens[i];
            if (string.IsNullOrWhiteSpace(t.Subject)) errors.Add($"Gateway:Auth:Tokens:{i}:Subject must not be empty.");
            if (!TokenRoles.Contains(t.Role, StringComparer.OrdinalIgnoreCase))
                errors.Add($"Gateway:Auth:Tokens:{i}:Role must be 'sidecar', 'operator' or 'viewer' (peers use certificates).");
            if (t.Sha256.Length != 64 || !t.Sha256.All(Uri.IsHexDigit))
                errors.Add($"Gateway:Auth:Tokens:{i}:Sha256 must be 64 hex characters (the SHA-256 of the token).");
        }
        for (var i = 0; i < o.Auth.ServerPools.Count; i++)
        {
            var g = o.Auth.ServerPools[i];
            if (string.IsNullOrWhiteSpace(g.Sidecar)) errors.Add($"Gateway:Auth:ServerPools:{i}:Sidecar must not be empty.");
            if (g.Pools.Count == 0 || g.Pools.Any(p => string.IsNullOrWhiteSpace(p) || p.IndexOf('*') is >= 0 and var star && star != p.Length - 1))
                errors.Add($"Gateway:Auth:ServerPools:{i}:Pools must list pool ids (one may end in '*' to grant every pool starting so).");
        }

        if (!string.IsNullOrWhiteSpace(o.AdvertisedAddress)
            && (!Uri.TryCreate(o.AdvertisedAddress, UriKind.Absolute, out var advertised) || advertised.Scheme is not ("http" or "https")))
            errors.Add($"Gateway:AdvertisedAddress must be an absolute http(s) URI such as https://10.0.0.7:9090 (was '{o.AdvertisedAddress}')");
        if (!string.IsNullOrEmpty(o.Peer.Address))
        {
            if (!Uri.TryCreate(o.Peer.Address, UriKind.Absolute, out var peer) || peer.Scheme != Uri.UriSchemeHttps)
                errors.Add($"Gateway:Peer:Address must be an https:// URL (mutual TLS); was '{o.Peer.Address}'.");
            if (o.Peer.ClientCertificate is null && string.IsNullOrEmpty(o.Peer.ClientCertificatePath))
                errors.Add("Gateway:Peer:ClientCertificatePath is required when Gateway:Peer:Address is set.");
            if (string.IsNullOrWhiteSpace(o.Peer.Region)) errors.Add("Gateway:Peer:Region is required when Gateway:Peer:Address is set.");
            if (o.Peer.CallDeadline <= TimeSpan.Zero) errors.Add("Gateway:Peer:CallDeadline must be positive.");
            if (o.Peer.MaxRetries is < 0 or > 10) errors.Add("Gateway:Peer:MaxRetries must be 0..10.");
            if (o.Peer.BreakerFailureThreshold < 2) errors.Add("Gateway:Peer:BreakerFailureThreshold must be at least 2.");
            if (o.Peer.BreakerOpenDuration < TimeSpan.FromMilliseconds(500)) errors.Add("Gateway:Peer:BreakerOpenDuration must be at least 500 ms.");
            if (o.Peer.AssignDeadline <= TimeSpan.Zero) errors.Add("Gateway:Peer:AssignDeadline must be positive.");
            if (o.Peer.SyncInterval <= TimeSpan.Zero) errors.Add("Gateway:Peer:SyncInterval must be positive.");
            if (o.Peer.ProbeInterval <= TimeSpan.Zero) errors.Add("Gateway:Peer:ProbeInterval must be positive.");
            if (o.Peer.PushDelay < TimeSpan.Zero) errors.Add("Gateway:Peer:PushDelay must not be negative.");
            if (o.Peer.RedisReplicaTimeout <= TimeSpan.Zero) errors.Add("Gateway:Peer:RedisReplicaTimeout must be positive.");
            if (o.Peer.RedisReplica is { Length: > 0 } replica && !TryParseRedis(replica))
                errors.Add($"Gateway:Peer:RedisReplica must be a StackExchange.Redis connection string such as 'redis-replica.peer:6379'; was '{replica}'.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool TryParseRedis(string connectionString)
    {
        try
        {
            return StackExchange.Redis.ConfigurationOptions.Parse(connectionString).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
