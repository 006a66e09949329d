using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace OrleansControl.Gateway.Hosting;

/// <summary>The gateway's settings, bound from the <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>The region this gateway serves (stamped on connections it registers).</summary>
    public string Region { get; set; } = "local";

    /// <summary>gRPC (HTTP/2 only). 0 picks a free port.</summary>
    public int GrpcPort { get; set; } = 9090;

    /// <summary>REST JSON (HTTP/1.1 and HTTP/2). 0 picks a free port.</summary>
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
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    public GatewayTlsOptions Tls { get; set; } = new();

    public GatewayAuthOptions Auth { get; set; } = new();

    public PeerRegionOptions Peer { get; set; } = new();

    internal bool IsLoopbackBind => IPAddress.TryParse(BindAddress, out var ip) ? IPAddress.IsLoopback(ip) : BindAddress == "localhost";

    internal bool TlsEnabled => Tls.ServerCertificate is not null || !string.IsNullOrEmpty(Tls.CertificatePath);

    /// <summary>Anonymous callers are let in (as a development operator) only when asked, or by default on a plain-text loopback gateway.</summary>
    internal bool AnonymousAllowed => Auth.AllowAnonymous ?? (!TlsEnabled && IsLoopbackBind);
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
