namespace OrleansControl.Sidecar.Agent;

/// <summary>How the agent finds its controller and what it registers.</summary>
public sealed class SidecarAgentOptions : ControllerAccessOptions
{
    public const string Section = "Sidecar:Agent";

    public override string SettingsPrefix => Section;

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

    /// <summary>
    /// Cap on the controller retry delay while the sidecar holds an ISO link (signed on, or down and reconnecting: then it
    /// needs the controller most), so a controller that comes back is re-attached to within about this long (equal
    /// jitter: each delay is half this to all of it). Only a sidecar without a link (a standby) backs off to
    /// <see cref="RetryMaxDelay"/>. A refused TCP connect costs the controller next to nothing, so the cap is small.
    /// </summary>
    public TimeSpan RetryMaxDelayWhileLinked { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Deadline of a drain or sign-off command that carries none.</summary>
    public TimeSpan CommandDrainDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deadline of a connect or move command that carries none.</summary>
    public TimeSpan CommandMoveDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Move to the first usable of the controller's ranked backups (COMMAND_KIND_BACKUPS) on the sidecar's own
    /// decision when the link is down and the controller is silent or unreachable. Off: only the controller moves it.
    /// </summary>
    public bool BackupFailover { get; set; } = true;

    /// <summary>
    /// How long a link that went down waits for the controller's move command before moving on its own (0..30 s). 500 ms:
    /// the controller's move takes 40–240 ms when it can decide; while a silo holding the connection's grain or the
    /// sidecar's outbox is dying no command can come, and this is how long traffic waits then.
    /// </summary>
    public TimeSpan MoveCommandTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// On an echo miss (the link is suspect but still up), open and sign on to the first usable backup at once and
    /// move new requests there (make-before-break). Needs <see cref="BackupFailover"/>.
    /// </summary>
    public bool MakeBeforeBreakOnSuspicion { get; set; } = true;

    /// <summary>Server mode: the scheme server this sidecar stands beside, declared on every attach.</summary>
    public ServerRegistrationOptions Server { get; set; } = new();

    /// <summary>
    /// Register as a standby client (DR: another pod, zone or site) of <see cref="ConnectionId"/>, the connection another
    /// sidecar carries: open no link and send no heartbeats until the controller activates this one (the active client
    /// died). Needs an explicit <see cref="ConnectionId"/>.
    /// </summary>
    public bool Standby { get; set; }

    public string EffectiveConnectionId => string.IsNullOrWhiteSpace(ConnectionId) ? $"{SidecarId}.{ClientId}" : ConnectionId;

    public IEnumerable<string> Validate()
    {
        foreach (var error in ControllerAccess.Validate(this))
        {
            yield return error;
        }

        foreach (var (name, value) in new[] { ("SidecarId", SidecarId), ("ClientId", ClientId), ("ServerPool", ServerPool), ("ConnectionId", EffectiveConnectionId) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Length > 128 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                yield return $"{name} must be 1..128 characters of [A-Za-z0-9._:-]";
            }
        }

        foreach (var error in Server.Validate())
        {
            yield return error;
        }

        if (Standby && string.IsNullOrWhiteSpace(ConnectionId))
        {
            yield return "Standby needs ConnectionId: the connection (carried by another sidecar) this one stands by for";
        }

        if (HeartbeatInterval < TimeSpan.FromMilliseconds(100) || HeartbeatInterval > TimeSpan.FromMinutes(5))
        {
            yield return "HeartbeatInterval must be 100 ms..5 min";
        }

        if (RetryInitialDelay <= TimeSpan.Zero || RetryMaxDelay < RetryInitialDelay)
        {
            yield return "RetryInitialDelay must be positive and at most RetryMaxDelay";
        }

        if (RetryMaxDelayWhileLinked < TimeSpan.FromMilliseconds(100) || RetryMaxDelayWhileLinked > TimeSpan.FromMinutes(5))
        {
            yield return "RetryMaxDelayWhileLinked must be 100 ms..5 min";
        }

        if (MoveCommandTimeout < TimeSpan.Zero || MoveCommandTimeout > TimeSpan.FromSeconds(30))
        {
            yield return "MoveCommandTimeout must be 0..30 s";
        }

        if (CommandDrainDeadline < TimeSpan.Zero || CommandMoveDeadline <= TimeSpan.Zero || CommandMoveDeadline > TimeSpan.FromMinutes(10))
        {
            yield return "CommandDrainDeadline must not be negative and CommandMoveDeadline must be positive, at most 10 min";
        }
    }
}
