namespace OrleansControl.Silo.Extensions;

/// <summary>
/// Section <c>Controller:SiloTls</c>: TLS with client certificates on the silo-to-silo and Orleans gateway ports
/// (<c>Microsoft.Orleans.Connections.Security</c>). PEM files as cert-manager writes them into a Secret
/// (<c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>). A peer is admitted when its certificate chains to
/// <see cref="CaPath"/>: silos connect by IP, so the name in the certificate is not what identifies one.
/// </summary>
public sealed class SiloTlsOptions
{
    public bool Enabled { get; set; }

    /// <summary>This silo's certificate (PEM); it must allow both server and client authentication.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Its private key (PEM).</summary>
    public string? KeyPath { get; set; }

    /// <summary>The CA bundle (PEM) other silos' and clients' certificates must chain to.</summary>
    public string? CaPath { get; set; }

    /// <summary>
    /// Permit plain-text silo ports on a non-loopback advertised address (Redis clustering). Local experiments only:
    /// without TLS any pod that reaches the ports can call grains directly, around the gateway's authorization.
    /// </summary>
    public bool AllowInsecure { get; set; }

    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first invalid setting with the problem (relative to the section), or null.</summary>
    public string? FindProblem()
    {
        if (!Enabled)
            return null;
        foreach (var (name, value) in new[] { (nameof(CertificatePath), CertificatePath), (nameof(KeyPath), KeyPath), (nameof(CaPath), CaPath) })
        {
            if (string.IsNullOrWhiteSpace(value))
                return $"{name} is required when Enabled";
        }
        if (HandshakeTimeout <= TimeSpan.Zero)
            return $"HandshakeTimeout must be positive (was {HandshakeTimeout})";
        return null;
    }
}
