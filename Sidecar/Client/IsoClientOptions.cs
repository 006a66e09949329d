using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Sidecar.Client;

/// <summary>The client end of a link: where to connect, how to keep it alive and how to get it back.</summary>
public sealed class IsoClientOptions : LinkOptions
{
    public const string Section = "Sidecar:Link";

    /// <summary>host:port to connect to. May stay empty until the controller assigns a server.</summary>
    public string? Server { get; set; }

    /// <summary>Sent in sign-on and sign-off as field 33 (forwarding institution); the server tracks sessions by it.</summary>
    public string? InstitutionId { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Send 0800/001 on connect and 0800/002 on close. Requests flow only after the peer approves.</summary>
    public bool SignOn { get; set; } = true;

    /// <summary>How long sign-on and sign-off wait for their 0810.</summary>
    public TimeSpan SignOnTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Send an echo test after this long without hearing from the peer (1 s .. 5 min).</summary>
    public TimeSpan EchoInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an echo waits for its 0810.</summary>
    public TimeSpan EchoTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Consecutive missed echoes after which the link is declared down and reconnected. The first miss degrades it.</summary>
    public int EchoMissesBeforeDown { get; set; } = 2;

    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a drain (or a move to another server) waits for requests in flight before closing.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout reversals with store-and-forward (<c>Sidecar:Link:Reversals</c>); off in the library, on in the sidecar host.</summary>
    public Reversals.ReversalOptions Reversals { get; set; } = new();

    public override IEnumerable<string> Validate()
    {
        foreach (var error in base.Validate())
        {
            yield return error;
        }

        foreach (var error in Tls?.Validate(server: false) ?? [])
        {
            yield return error;
        }

        if (Server is { Length: > 0 } && !IsoEndpoint.TryParse(Server, out _))
        {
            yield return "Server must be host:port";
        }

        if (EchoInterval < TimeSpan.FromSeconds(1) || EchoInterval > TimeSpan.FromMinutes(5))
        {
            yield return "EchoInterval must be 1 s..5 min";
        }

        if (EchoTimeout < TimeSpan.FromMilliseconds(100) || EchoTimeout > TimeSpan.FromMinutes(1))
        {
            yield return "EchoTimeout must be 100 ms..1 min";
        }

        if (EchoMissesBeforeDown is < 1 or > 10)
        {
            yield return "EchoMissesBeforeDown must be 1..10";
        }

        if (ConnectTimeout <= TimeSpan.Zero || SignOnTimeout <= TimeSpan.Zero || DrainTimeout < TimeSpan.Zero)
        {
            yield return "ConnectTimeout and SignOnTimeout must be positive, DrainTimeout not negative";
        }

        if (ReconnectInitialDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectInitialDelay)
        {
            yield return "ReconnectInitialDelay must be positive and at most ReconnectMaxDelay";
        }

        if (Reversals.Enabled)
        {
            foreach (var error in ValidateReversals())
            {
                yield return error;
            }
        }
    }

    private IEnumerable<string> ValidateReversals()
    {
        Codec.MessageSpec spec;
        try
        {
            spec = IsoWire.Create(this).Spec;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or Codec.Iso8583Exception or System.Text.Json.JsonException or KeyNotFoundException)
        {
            return [$"Reversals: spec '{Spec}' could not be loaded to check them: {ex.Message}"];
        }

        return Reversals.Validate(spec, Name);
    }
}
