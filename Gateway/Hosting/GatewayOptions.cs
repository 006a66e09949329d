using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace OrleansControl.Gateway.Hosting;

/// <summary>The gateway's settings, bound from the <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions : IValidatableObject
{
    public const string SectionName = "Gateway";

    /// <summary>The region this gateway serves (stamped on connections it registers).</summary>
    public string Region { get; set; } = "local";

    /// <summary>gRPC (HTTP/2 only). 0 picks a free port.</summary>
    [Range(0, 65535)]
    public int GrpcPort { get; set; } = 9090;

    /// <summary>REST JSON (HTTP/1.1 and HTTP/2). 0 picks a free port.</summary>
    [Range(0, 65535)]
    public int RestPort { get; set; } = 8080;

    /// <summary>
    /// What sidecars dial to reach this gateway (an absolute http(s) URI, e.g. https://10.0.0.7:9090 or a pod's DNS name),
    /// told to every attached sidecar with the other live gateways. Default: the gRPC endpoint when it binds a specific
    /// address; required to advertise a gateway that binds a wildcard address (Kubernetes: the pod IP or name).
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Address to listen on. The default, loopback, keeps a development gateway unreachable from elsewhere.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>True (the default): the gateway sets up its own Kestrel endpoints. False leaves endpoints to the host (e.g. a TestServer).</summary>
    public bool ConfigureKestrel { get; set; } = true;

    /// <summary>Permit plain-text HTTP (h2c) on a non-loopback address. Local development only.</summary>
    public bool AllowInsecure { get; set; }

    /// <summary>Heartbeat interval the gateway tells sidecars to use.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "10675199.02:48:05.4775807")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    public GatewayTlsOptions Tls { get; set; } = new();

    public GatewayAuthOptions Auth { get; set; } = new();

    public PeerRegionOptions Peer { get; set; } = new();

    internal bool IsLoopbackBind => IPAddress.TryParse(BindAddress, out var ip) ? IPAddress.IsLoopback(ip) : BindAddress == "localhost";

    internal bool TlsEnabled => Tls.ServerCertificate is not null || !string.IsNullOrEmpty(Tls.CertificatePath);

    /// <summary>Anonymous callers are let in (as a development operator) only when asked, or by default on a plain-text loopback gateway.</summary>
    internal bool AnonymousAllowed => Auth.AllowAnonymous ?? (!TlsEnabled && IsLoopbackBind);

    private static readonly string[] TokenRoles = ["sidecar", "operator", "viewer"];

    /// <summary>The rules [Range] cannot say (between settings, formats, the peer link's when it is configured).</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var o = this;
        if (string.IsNullOrWhiteSpace(o.Region)) yield return new ValidationResult("Gateway:Region must not be empty.");
        if (o.GrpcPort != 0 && o.GrpcPort == o.RestPort) yield return new ValidationResult("Gateway:GrpcPort and Gateway:RestPort must differ.");
        if (o.ConfigureKestrel && !o.TlsEnabled && !o.IsLoopbackBind && !o.AllowInsecure)
        {
            yield return new ValidationResult($"Gateway:BindAddress '{o.BindAddress}' is not loopback and no Gateway:Tls:CertificatePath is set; " +
                       "configure TLS, or set Gateway:AllowInsecure=true for local development only.");
        }
        if (!string.IsNullOrEmpty(o.Tls.KeyPath) && string.IsNullOrEmpty(o.Tls.CertificatePath))
            yield return new ValidationResult("Gateway:Tls:KeyPath needs Gateway:Tls:CertificatePath.");

        for (var i = 0; i < o.Auth.Tokens.Count; i++)
        {
            var t = o.Auth.Tokens[i];
            if (string.IsNullOrWhiteSpace(t.Subject)) yield return new ValidationResult($"Gateway:Auth:Tokens:{i}:Subject must not be empty.");
            if (!TokenRoles.Contains(t.Role, StringComparer.OrdinalIgnoreCase))
                yield return new ValidationResult($"Gateway:Auth:Tokens:{i}:Role must be 'sidecar', 'operator' or 'viewer' (peers use certificates).");
            if (t.Sha256.Length != 64 || !t.Sha256.All(Uri.IsHexDigit))
                yield return new ValidationResult($"Gateway:Auth:Tokens:{i}:Sha256 must be 64 hex characters (the SHA-256 of the token).");
        }
        for (var i = 0; i < o.Auth.ServerPools.Count; i++)
        {
            var g = o.Auth.ServerPools[i];
            if (string.IsNullOrWhiteSpace(g.Sidecar)) yield return new ValidationResult($"Gateway:Auth:ServerPools:{i}:Sidecar must not be empty.");
            if (g.Pools.Count == 0 || g.Pools.Any(p => string.IsNullOrWhiteSpace(p) || p.IndexOf('*') is >= 0 and var star && star != p.Length - 1))
                yield return new ValidationResult($"Gateway:Auth:ServerPools:{i}:Pools must list pool ids (one may end in '*' to grant every pool starting so).");
        }

        if (!string.IsNullOrWhiteSpace(o.AdvertisedAddress)
            && (!Uri.TryCreate(o.AdvertisedAddress, UriKind.Absolute, out var advertised) || advertised.Scheme is not ("http" or "https")))
            yield return new ValidationResult($"Gateway:AdvertisedAddress must be an absolute http(s) URI such as https://10.0.0.7:9090 (was '{o.AdvertisedAddress}')");
        if (!string.IsNullOrEmpty(o.Peer.Address))
        {
            if (!Uri.TryCreate(o.Peer.Address, UriKind.Absolute, out var peer) || peer.Scheme != Uri.UriSchemeHttps)
                yield return new ValidationResult($"Gateway:Peer:Address must be an https:// URL (mutual TLS); was '{o.Peer.Address}'.");
            if (o.Peer.ClientCertificate is null && string.IsNullOrEmpty(o.Peer.ClientCertificatePath))
                yield return new ValidationResult("Gateway:Peer:ClientCertificatePath is required when Gateway:Peer:Address is set.");
            if (string.IsNullOrWhiteSpace(o.Peer.Region)) yield return new ValidationResult("Gateway:Peer:Region is required when Gateway:Peer:Address is set.");
            if (o.Peer.CallDeadline <= TimeSpan.Zero) yield return new ValidationResult("Gateway:Peer:CallDeadline must be positive.");
            if (o.Peer.MaxRetries is < 0 or > 10) yield return new ValidationResult("Gateway:Peer:MaxRetries must be 0..10.");
            if (o.Peer.BreakerFailureThreshold < 2) yield return new ValidationResult("Gateway:Peer:BreakerFailureThreshold must be at least 2.");
            if (o.Peer.BreakerOpenDuration < TimeSpan.FromMilliseconds(500)) yield return new ValidationResult("Gateway:Peer:BreakerOpenDuration must be at least 500 ms.");
            if (o.Peer.AssignDeadline <= TimeSpan.Zero) yield return new ValidationResult("Gateway:Peer:AssignDeadline must be positive.");
            if (o.Peer.SyncInterval <= TimeSpan.Zero) yield return new ValidationResult("Gateway:Peer:SyncInterval must be positive.");
            if (o.Peer.ProbeInterval <= TimeSpan.Zero) yield return new ValidationResult("Gateway:Peer:ProbeInterval must be positive.");
            if (o.Peer.PushDelay < TimeSpan.Zero) yield return new ValidationResult("Gateway:Peer:PushDelay must not be negative.");
            if (o.Peer.RedisReplicaTimeout <= TimeSpan.Zero) yield return new ValidationResult("Gateway:Peer:RedisReplicaTimeout must be positive.");
            if (o.Peer.RedisReplica is { Length: > 0 } replica && !TryParseRedis(replica))
                yield return new ValidationResult($"Gateway:Peer:RedisReplica must be a StackExchange.Redis connection string such as 'redis-replica.peer:6379'; was '{replica}'.");
        }

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

public sealed class GatewayTlsOptions
{
    /// <summary>Server certificate: a PFX, or a PEM certificate with <see cref="KeyPath"/>.</summary>
    public string? CertificatePath { get; set; }

    public string? KeyPath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>PEM bundle of the CA(s) whose client certificates are accepted (sidecars, operators, peer controllers).</summary>
    public string? ClientCaPath { get; set; }

    /// <summary>In-process alternative to <see cref="CertificatePath"/> (tests, hosts that load certificates themselves).</summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>In-process alternative to <see cref="ClientCaPath"/>.</summary>
    public X509Certificate2Collection? ClientCa { get; set; }
}

public sealed class GatewayAuthOptions
{
    /// <summary>Null: allowed only on a plain-text loopback gateway (the development default).</summary>
    public bool? AllowAnonymous { get; set; }

    /// <summary>Bearer tokens, stored as SHA-256 hashes so configuration never holds a usable secret.</summary>
    public List<BearerTokenOptions> Tokens { get; set; } = [];

    /// <summary>
    /// Which pools each server-mode sidecar may declare its server into (by its identity: a token's subject or a
    /// certificate's CN). A sidecar not listed declares into none.
    /// </summary>
    public List<ServerPoolGrantOptions> ServerPools { get; set; } = [];
}

public sealed class ServerPoolGrantOptions
{
    /// <summary>The sidecar's identity (token subject or certificate CN).</summary>
    public string Sidecar { get; set; } = "";

    /// <summary>Pool ids; one ending in <c>*</c> grants every pool whose id starts with what precedes it.</summary>
    public List<string> Pools { get; set; } = [];
}

public sealed class BearerTokenOptions
{
    /// <summary>Who the token belongs to: the sidecar id for a sidecar, a name for an operator.</summary>
    public string Subject { get; set; } = "";

    /// <summary><c>sidecar</c>, <c>operator</c> or <c>viewer</c> (reads the web view only). Peer controllers authenticate with certificates only.</summary>
    public string Role { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the token.</summary>
    public string Sha256 { get; set; } = "";
}

/// <summary>The other region's gateway (mutual TLS).</summary>
public sealed class PeerRegionOptions
{
    /// <summary>https://host:port of the peer's gRPC endpoint; empty when this region works alone.</summary>
    public string? Address { get; set; }

    public string? Region { get; set; }

    /// <summary>
    /// True on the bank side: the peer (scheme side) owns the server pools, so a registration gets its server from
    /// the peer's AssignServer and mirrors that server into the local pool.
    /// </summary>
    public bool OwnsServerPools { get; set; }

    /// <summary>Client certificate (PFX) presented to the peer.</summary>
    public string? ClientCertificatePath { get; set; }

    public string? ClientCertificatePassword { get; set; }

    /// <summary>CA that signs the peer's server certificate.</summary>
    public string? TrustedCaPath { get; set; }

    public X509Certificate2? ClientCertificate { get; set; }

    public X509Certificate2Collection? TrustedCa { get; set; }

    /// <summary>
    /// StackExchange.Redis connection string of the peer region's Redis <b>replica</b> (the seed's third channel: the
    /// peer writes its registry projection to its primary, replicated here). Optional; read only: while the gRPC link
    /// is down, listings and lookups of the peer's connections are completed from its <c>connections:{id}</c> hashes,
    /// each marked with its age (<c>replica_read</c>); on the bank, the mirrors of the scheme's pools take the server
    /// health the scheme wrote there (<c>servers:{pool}:{server}</c>) when fresher. Never written to.
    /// </summary>
    public string? RedisReplica { get; set; }

    /// <summary>How long one read of the peer's Redis replica may take before the answer goes without it.</summary>
    public TimeSpan RedisReplicaTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deadline of one call to the peer (retried calls get it per attempt).</summary>
    public TimeSpan CallDeadline { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Bank side: how long a registration waits for the scheme's AssignServer before it assigns from the local mirror
    /// (provisionally, until the scheme confirms it). Short, because a sidecar's sign-on waits on it.
    /// </summary>
    public TimeSpan AssignDeadline { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Anti-entropy period while the link is up (each change is also pushed as it happens).</summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>While the link is down: how often a health probe checks whether it is back (a full sync follows at once).</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a change waits for others before it is pushed to the peer (one push carries a burst).</summary>
    public TimeSpan PushDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Retries of an idempotent call after a transient failure (exponential backoff with jitter).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Failures in a row (no success between them) that open the circuit. At least 2.</summary>
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>How long an open circuit refuses calls before one trial goes through (a successful probe closes it sooner).</summary>
    public TimeSpan BreakerOpenDuration { get; set; } = TimeSpan.FromSeconds(10);
}
