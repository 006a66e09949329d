namespace OrleansControl.Sidecar.Agent;

/// <summary>How the agent finds its controller and what it registers.</summary>
public sealed class SidecarAgentOptions
{
    public const string Section = "Sidecar:Agent";

    /// <summary>The gateway's gRPC address (e.g. http://gateway:9090). Empty: no controller, the link runs on its own.</summary>
    public string? Controller { get; set; }

    /// <summary>Bearer token sent to the gateway, if it requires one.</summary>
    public string? BearerToken { get; set; }

    /// <summary>PKCS#12 client certificate for an https controller that authenticates sidecars by certificate.</summary>
    public string? ClientCertificatePath { get; set; }

    public string? ClientCertificatePassword { get; set; }

    /// <summary>Accept a controller certificate that does not chain to a trusted root (tests, dev only).</summary>
    public bool AllowUntrustedController { get; set; }

    public string SidecarId { get; set; } = Environment.MachineName;

    public string Region { get; set; } = "bank";

    /// <summary>The client application this sidecar serves (registered as the connection's client id).</summary>
    public string ClientId { get; set; } = "bank-client";

    /// <summary>The scheme's server pool to be assigned a server from.</summary>
    public string ServerPool { get; set; } = "scheme";

    public string? PreferredServer { get; set; }

    /// <summary>Stable connection id so re-registration after a restart is idempotent; default sidecarId/clientId.</summary>
    public string? ConnectionId { get; set; }

    /// <summary>Heartbeat period until the controller says otherwise in Attached.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Deadline of a drain or sign-off command that carries none.</summary>
    public TimeSpan CommandDrainDeadline { get; set; } = TimeSpan.FromSeconds(10);

    public string EffectiveConnectionId => string.IsNullOrWhiteSpace(ConnectionId) ? $"{SidecarId}.{ClientId}" : ConnectionId;

    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrWhiteSpace(Controller) && !Uri.TryCreate(Controller, UriKind.Absolute, out _))
        {
            yield return "Controller must be an absolute URI such as http://gateway:9090";
        }

        foreach (var (name, value) in new[] { ("SidecarId", SidecarId), ("ClientId", ClientId), ("ServerPool", ServerPool), ("ConnectionId", EffectiveConnectionId) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Length > 128 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                yield return $"{name} must be 1..128 characters of [A-Za-z0-9._:-]";
            }
        }

        if (HeartbeatInterval < TimeSpan.FromMilliseconds(100) || HeartbeatInterval > TimeSpan.FromMinutes(5))
        {
            yield return "HeartbeatInterval must be 100 ms..5 min";
        }

        if (RetryInitialDelay <= TimeSpan.Zero || RetryMaxDelay < RetryInitialDelay)
        {
            yield return "RetryInitialDelay must be positive and at most RetryMaxDelay";
        }
    }
}
