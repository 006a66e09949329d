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

/// <summary>TLS for a link. Certificates come from files so a pod can mount them.</summary>
public sealed class TlsOptions
{
    public bool Enabled { get; set; }

    /// <summary>Client: the name expected in the server certificate (default: the host part of the endpoint).</summary>
    public string? TargetHost { get; set; }

    /// <summary>Server: PKCS#12 file with the certificate and key. Client: optional client certificate.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Client: accept a server certificate that does not chain to a trusted root (tests, dev only).</summary>
    public bool AllowUntrustedServer { get; set; }
}
