namespace OrleansControl.Sidecar.Connections;

/// <summary>What both ends of a link agree on: the codec spec, the frame header, the echo timing and matching.</summary>
public abstract class LinkOptions
{
    /// <summary>Name in logs and metrics.</summary>
    public string Name { get; set; } = "iso";

    /// <summary>A built-in codec spec name or a path to a spec JSON file.</summary>
    public string Spec { get; set; } = IsoWire.DefaultSpec;

    /// <summary>The frame length header (see docs/codec.md), e.g. binary2, ascii4, bcd2, binary4.</summary>
    public string Framing { get; set; } = IsoWire.DefaultFraming;

    /// <summary>Largest frame accepted or sent.</summary>
    public int MaxFrameLength { get; set; } = 8192;

    /// <summary>Default time a request waits for its response (from acceptance, including any wait for a link).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Cap on application requests accepted and not yet answered.</summary>
    public int MaxInFlight { get; set; } = 4096;

    /// <summary>Match key fields per MTI (e.g. "0420": [11, 37]); others use <see cref="DefaultMatchFields"/>.</summary>
    public Dictionary<string, int[]> MatchFields { get; set; } = [];

    /// <summary>Default match key fields besides the MTI pair: STAN and terminal id.</summary>
    public int[] DefaultMatchFields { get; set; } = [11, 41];

    /// <summary>TLS on the socket; off unless set.</summary>
    public TlsOptions? Tls { get; set; }

    private bool FramingIsValid(out string error)
    {
        try
        {
            Codec.LengthPrefixFraming.Parse(Framing, MaxFrameLength);
            error = "";
            return true;
        }
        catch (ArgumentException ex)
        {
            error = $"Framing: {ex.Message}";
            return false;
        }
    }

    public virtual IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Spec))
        {
            yield return "Spec is required";
        }

        if (MaxFrameLength is < 64 or > 1 << 20)
        {
            yield return "MaxFrameLength must be 64..1048576";
        }
        else if (!FramingIsValid(out var framingError))
        {
            yield return framingError;
        }

        if (RequestTimeout < TimeSpan.FromMilliseconds(10) || RequestTimeout > TimeSpan.FromMinutes(10))
        {
            yield return "RequestTimeout must be 10 ms..10 min";
        }

        if (MaxInFlight is < 1 or > 1_000_000)
        {
            yield return "MaxInFlight must be 1..1000000";
        }

        if (DefaultMatchFields.Length == 0 || DefaultMatchFields.Any(f => f is < 2 or > 192))
        {
            yield return "DefaultMatchFields must list fields 2..192";
        }

        foreach (var (mti, fields) in MatchFields)
        {
            if (mti.Length != 4 || !mti.All(char.IsAsciiDigit) || fields.Length == 0 || fields.Any(f => f is < 2 or > 192))
            {
                yield return $"MatchFields[{mti}] must be a 4-digit MTI with fields 2..192";
            }
        }
    }
}

/// <summary>
/// TLS for a link, mutual when the server sets <see cref="RequireClientCertificate"/>. Certificates come from files
/// so a pod can mount them from a Secret: PEM as cert-manager writes them (<c>tls.crt</c>, <c>tls.key</c>,
/// <c>ca.crt</c>) or PKCS#12.
/// </summary>
public sealed class TlsOptions
{
    public bool Enabled { get; set; }

    /// <summary>Client: the name expected in the server certificate (default: the host part of the endpoint).</summary>
    public string? TargetHost { get; set; }

    /// <summary>
    /// Server: its certificate. Client: the client certificate it presents (needed when the server requires one).
    /// PEM with <see cref="KeyPath"/>, PKCS#12 without.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>; empty: the certificate file is PKCS#12.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of the PKCS#12 file, or of an encrypted PEM key.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// PEM bundle of the CA(s) the peer's certificate must chain to; those alone are trusted. Client: the server's
    /// CA (default: the system roots). Server: the CA of the client certificates; required with
    /// <see cref="RequireClientCertificate"/>.
    /// </summary>
    public string? TrustedCaPath { get; set; }

    /// <summary>Server: refuse a client that presents no certificate chaining to <see cref="TrustedCaPath"/> (mutual TLS).</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>Server: when not empty, the client certificate's common name or one of its DNS names must be listed here.</summary>
    public List<string> AllowedClientNames { get; set; } = [];

    /// <summary>Server: a client that has not completed the handshake in this time is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Client: accept a server certificate that does not chain to a trusted root (tests, dev only).</summary>
    public bool AllowUntrustedServer { get; set; }

    /// <summary>What is wrong, each naming the setting under <c>Tls:</c>; <paramref name="server"/> picks the end.</summary>
    public IEnumerable<string> Validate(bool server)
    {
        if (!Enabled)
        {
            yield break;
        }

        foreach (var (name, path) in new[] { (nameof(CertificatePath), CertificatePath), (nameof(KeyPath), KeyPath), (nameof(TrustedCaPath), TrustedCaPath) })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
            {
                yield return $"Tls:{name} '{path}' does not exist";
            }
        }

        if (!string.IsNullOrEmpty(KeyPath) && string.IsNullOrEmpty(CertificatePath))
        {
            yield return "Tls:KeyPath needs Tls:CertificatePath";
        }

        if (server)
        {
            if (RequireClientCertificate && string.IsNullOrEmpty(TrustedCaPath))
            {
                yield return "Tls:RequireClientCertificate needs Tls:TrustedCaPath (the CA of the client certificates)";
            }

            if (AllowedClientNames.Count > 0 && !RequireClientCertificate)
            {
                yield return "Tls:AllowedClientNames needs Tls:RequireClientCertificate";
            }

            if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout > TimeSpan.FromMinutes(1))
            {
                yield return "Tls:HandshakeTimeout must be positive, at most 1 min";
            }

            if (AllowUntrustedServer)
            {
                yield return "Tls:AllowUntrustedServer is a client setting";
            }
        }
        else
        {
            if (!string.IsNullOrEmpty(TrustedCaPath) && AllowUntrustedServer)
            {
                yield return "Tls:TrustedCaPath and Tls:AllowUntrustedServer are exclusive";
            }

            if (RequireClientCertificate || AllowedClientNames.Count > 0)
            {
                yield return "Tls:RequireClientCertificate and Tls:AllowedClientNames are server settings";
            }
        }
    }
}
