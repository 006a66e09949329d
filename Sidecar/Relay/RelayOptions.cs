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

    /// <summary>Response code (field 39) sent to the application when the link could not deliver a request.</summary>
    public string UnavailableResponseCode { get; set; } = "91";

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
    };

    public IEnumerable<string> Validate()
    {
        if (!Connections.IsoEndpoint.TryParse(Listen, out _, allowPortZero: true))
        {
            yield return $"{Section}:Listen must be host:port";
        }

        if (UnavailableResponseCode is not { Length: 2 })
        {
            yield return "Relay:UnavailableResponseCode must be two characters";
        }
    }
}
