using OrleansControl.Sidecar.Agent;

namespace OrleansControl.Sidecar.Server;

/// <summary>
/// The scheme server's sidecar reporting the sessions its server holds to the controller (SidecarService.Attach,
/// session_report), so the controller can tell a client whose control path is cut from one that died.
/// </summary>
public sealed class ServerSessionReportOptions : ControllerAccessOptions
{
    /// <summary>Where these settings are bound from, for messages that name the fix (the scheme server sample: none, its keys are top level).</summary>
    public string Prefix { get; set; } = "";

    public override string SettingsPrefix => Prefix;

    /// <summary>This sidecar's identity on the stream (its own outbox; it carries no connection).</summary>
    public string SidecarId { get; set; } = $"{Environment.MachineName}-server";

    public string Region { get; set; } = "scheme";

    /// <summary>The pool and server id the controller knows this server by.</summary>
    public string ServerPool { get; set; } = "scheme";

    public string ServerId { get; set; } = "scheme-1";

    /// <summary>A full report this often, and at once (coalesced) when a session opens or closes.</summary>
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<string> Validate()
    {
        foreach (var error in ControllerAccess.Validate(this))
        {
            yield return error;
        }

        foreach (var (name, value) in new[] { ("SidecarId", SidecarId), ("ServerPool", ServerPool), ("ServerId", ServerId) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Length > 128 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                yield return $"{name} must be 1..128 characters of [A-Za-z0-9._:-]";
            }
        }

        if (ReportInterval < TimeSpan.FromMilliseconds(100) || ReportInterval > TimeSpan.FromMinutes(1))
        {
            yield return "ReportInterval must be 100 ms..1 min";
        }

        if (RetryInitialDelay <= TimeSpan.Zero || RetryMaxDelay < RetryInitialDelay)
        {
            yield return "RetryInitialDelay must be positive and at most RetryMaxDelay";
        }
    }
}
