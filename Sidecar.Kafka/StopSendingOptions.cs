namespace OrleansControl.Sidecar.Kafka;

/// <summary>
/// The scheme server's consumer of <c>oc.server.stop-sending</c> (configuration section <c>Kafka</c> of the server
/// host; off unless <see cref="BootstrapServers"/> is set). Security settings are librdkafka properties, as the
/// controller's (docs/events.md).
/// </summary>
public sealed class StopSendingOptions
{
    public const string Section = "Kafka";

    /// <summary>Comma-separated host:port list. Empty: the consumer is off.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>plaintext, ssl, sasl_plaintext or sasl_ssl (librdkafka <c>security.protocol</c>).</summary>
    public string? SecurityProtocol { get; set; }

    public string? SaslMechanism { get; set; }

    public string? SaslUsername { get; set; }

    public string? SaslPassword { get; set; }

    public string? SslCaLocation { get; set; }

    /// <summary>Further librdkafka properties.</summary>
    public Dictionary<string, string> Properties { get; set; } = [];

    public string Topic { get; set; } = "failover-commands";

    /// <summary>This server's id in its pool: only events naming it are acted on. Required.</summary>
    public string ServerId { get; set; } = "";

    /// <summary>Consumer group; default <c>stop-sending-{ServerId}</c> (one per server: each must see every event about itself).</summary>
    public string? GroupId { get; set; }

    /// <summary>
    /// Where a group without a committed offset starts: <c>latest</c> (a server that never ran has no session to stop)
    /// or <c>earliest</c>. With an offset the consumer always resumes from it.
    /// </summary>
    public string AutoOffsetReset { get; set; } = "latest";

    /// <summary>
    /// The controller's client id → the institution id that client signs on with (field 33), which is how this server
    /// knows its sessions. A client not listed is taken to sign on with its client id.
    /// </summary>
    public Dictionary<string, string> Clients { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Event ids remembered to drop redeliveries.</summary>
    public int DeduplicationWindow { get; set; } = 10_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(BootstrapServers);

    public string EffectiveGroupId => GroupId ?? $"stop-sending-{ServerId}";

    /// <summary>The first problem, naming the key (relative to <see cref="Section"/>); null when usable.</summary>
    public string? FindProblem()
    {
        foreach (var server in BootstrapServers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = server.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(server.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
                return $"BootstrapServers entry '{server}' must be host:port";
        }
        if (string.IsNullOrWhiteSpace(ServerId))
            return "ServerId is required (this server's id in its pool) when BootstrapServers is set";
        if (string.IsNullOrWhiteSpace(Topic))
            return "Topic must not be empty";
        if (AutoOffsetReset.ToLowerInvariant() is not ("earliest" or "latest"))
            return $"AutoOffsetReset must be earliest or latest (was '{AutoOffsetReset}')";
        if (DeduplicationWindow < 0)
            return $"DeduplicationWindow must not be negative (was {DeduplicationWindow})";
        return null;
    }
}
