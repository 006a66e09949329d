using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Sidecar.Server;

/// <summary>The server end of links: where to listen and how many clients to take.</summary>
public sealed class IsoServerOptions : LinkOptions
{
    public const string Section = "Scheme:Listener";

    /// <summary>host:port to listen on; port 0 picks a free one (see <see cref="IsoServer.Endpoint"/>).</summary>
    public string Listen { get; set; } = "127.0.0.1:0";

    /// <summary>The setting that moves <see cref="Listen"/>, named when the port is taken (each host sets its own key).</summary>
    public string ListenSetting { get; set; } = $"{Section}:Listen";

    /// <summary>Sessions beyond this are closed as soon as they are accepted.</summary>
    public int MaxSessions { get; set; } = 1000;

    /// <summary>
    /// Close a session that has sent nothing (not even an echo) for this long; a client that vanished
    /// without a FIN would otherwise hold a capacity slot for ever. Zero disables it.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Answer application requests only on signed-on sessions (others get no answer).</summary>
    public bool RequireSignOn { get; set; }

    public override IEnumerable<string> Validate()
    {
        foreach (var error in base.Validate())
        {
            yield return error;
        }

        foreach (var error in Tls?.Validate(server: true) ?? [])
        {
            yield return error;
        }

        if (!IsoEndpoint.TryParse(Listen, out _, allowPortZero: true))
        {
            yield return "Listen must be host:port";
        }

        if (IdleTimeout < TimeSpan.Zero)
        {
            yield return "IdleTimeout must not be negative";
        }

        if (MaxSessions is < 1 or > 100_000)
        {
            yield return "MaxSessions must be 1..100000";
        }
    }
}
