namespace OrleansControl.Silo.Extensions;

/// <summary>
/// Section <c>Controller:RedisTls</c>: TLS to Redis for clustering, grain storage, reminders and the projection (one
/// connection configuration for all four, <see cref="ControllerRedis"/>). PEM files as a Secret mounts them. The
/// password stays in the connection string (<c>password=…</c>, from a Secret).
/// </summary>
public sealed class RedisTlsOptions
{
    public bool Enabled { get; set; }

    /// <summary>The name the Redis server certificate must carry (default: the host of the connection string).</summary>
    public string? Host { get; set; }

    /// <summary>PEM CA certificate the server's certificate must chain to (a private CA); the system roots otherwise.</summary>
    public string? CaPath { get; set; }

    /// <summary>PEM client certificate, for a Redis that authenticates clients by certificate (<c>tls-auth-clients yes</c>).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Its PEM private key.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// Permit a Redis that is not on loopback without TLS or AUTH. Local experiments only: Redis holds the membership
    /// table and every grain's state, and anyone who reaches it unauthenticated can rewrite both.
    /// </summary>
    public bool AllowInsecure { get; set; }

    /// <summary>The first invalid setting with the problem (relative to the section), or null.</summary>
    public string? FindProblem()
    {
        if (!Enabled)
            return null;
        if (string.IsNullOrEmpty(CertificatePath) != string.IsNullOrEmpty(KeyPath))
            return "CertificatePath and KeyPath go together (a client certificate and its key)";
        foreach (var (name, path) in new[] { (nameof(CaPath), CaPath), (nameof(CertificatePath), CertificatePath), (nameof(KeyPath), KeyPath) })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
                return $"{name} '{path}' does not exist";
        }
        return null;
    }
}
