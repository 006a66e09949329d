using OrleansControl.Sidecar.Server;

namespace OrleansControl.Sidecar.Relay;

/// <summary>
/// The local ISO 8583 port an application in the same pod connects to instead of the scheme; the sidecar
/// relays its requests over the managed link. Off by default (applications may use the library directly).
/// </summary>
public sealed class RelayOptions
{
    public const string Section = "Sidecar:Relay";

    public bool Enabled { get; set; }

    /// <summary>Where the application connects; localhost only by default.</summary>
    public string Listen { get; set; } = "127.0.0.1:8583";

    /// <summary>
    /// TLS on the relay's port (<c>Sidecar:Relay:Tls</c>), mutual with <c>RequireClientCertificate</c>; off by default,
    /// since the application normally connects over the pod's loopback.
    /// </summary>
    public Connections.TlsOptions? Tls { get; set; }

    /// <summary>Field 39 of the relay's own answers, one per outcome (<see cref="RelayAnswers"/>).</summary>
    public RelayResponseCodes ResponseCodes { get; set; } = new();

    /// <summary>Where the relay's own answers say what happened ("NOT SENT", "FATE UNKNOWN REVERSING", …); 0 = nowhere.</summary>
    public int DetailField { get; set; } = 44;

    public IsoServerOptions ToServerOptions(Client.IsoClientOptions link) => new()
    {
        Name = "relay",
        Listen = Listen,
        ListenSetting = $"{Section}:Listen",
        Spec = link.Spec,
        Framing = link.Framing,
        MaxFrameLength = link.MaxFrameLength,
        MaxInFlight = link.MaxInFlight,
        MaxSessions = 16,
        Tls = Tls,
    };

    public IEnumerable<string> Validate()
    {
        if (!Connections.IsoEndpoint.TryParse(Listen, out _, allowPortZero: true))
        {
            yield return $"{Section}:Listen must be host:port";
        }

        foreach (var error in Tls?.Validate(server: true) ?? [])
        {
            yield return $"{Section}:{error}";
        }

        foreach (var error in ResponseCodes.Validate())
        {
            yield return error;
        }

        if (DetailField is not 0 and (< 2 or > 128) || DetailField is 3 or 4 or 7 or 11 or 37 or 39 or 41 or 42 or 49)
        {
            yield return $"{Section}:DetailField must be 0 or a free field 2..128 (e.g. 44, additional response data)";
        }
    }
}
