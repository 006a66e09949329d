using Orleans;

namespace OrleansControl.Streams.Kafka;

/// <summary>
/// The Kafka stream provider's settings (configuration section <c>Controller:Kafka</c> in the silo). The defaults are
/// the production ones except <see cref="BootstrapServers"/>, which has none. Security settings are passed to every
/// Kafka client as librdkafka properties; anything else librdkafka knows goes in <see cref="Properties"/>.
/// </summary>
public sealed class KafkaStreamOptions
{
    public const string DefaultTopic = "controller-events";

    /// <summary>Comma-separated host:port list. Required.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>plaintext, ssl, sasl_plaintext or sasl_ssl (librdkafka <c>security.protocol</c>); unset: plaintext.</summary>
    public string? SecurityProtocol { get; set; }

    /// <summary>PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (librdkafka <c>sasl.mechanism</c>).</summary>
    public string? SaslMechanism { get; set; }

    public string? SaslUsername { get; set; }

    [Redact] // Orleans prints options at start-up: never a secret.
    public string? SaslPassword { get; set; }

    /// <summary>CA bundle that signs the brokers' certificates (librdkafka <c>ssl.ca.location</c>).</summary>
    public string? SslCaLocation { get; set; }

    /// <summary>Further librdkafka properties for every client (producer and consumers), e.g. <c>ssl.endpoint.identification.algorithm</c>.</summary>
    [Redact] // may carry sasl.password or ssl.key.password
    public Dictionary<string, string> Properties { get; set; } = [];

    /// <summary>Stream namespace → topic. A namespace not listed goes to <see cref="DefaultTopic"/>.</summary>
    public Dictionary<string, string> Topics { get; set; } = new(StringComparer.Ordinal)
    {
        ["connection-status"] = "connection-status",
        ["connection-lost"] = "connection-status",
        ["failover-commands"] = "failover-commands",
        ["stop-sending"] = "failover-commands",
        ["server-health"] = "health-reports",
        ["health-reports"] = "health-reports",
    };

    /// <summary>
    /// Partitions of each topic. Every silo must agree: the stream → partition mapping (Kafka's murmur2 of the key)
    /// and the partition → Orleans queue mapping are computed from these, for writing and for reading.
    /// </summary>
    public Dictionary<string, int> Partitions { get; set; } = new(StringComparer.Ordinal)
    {
        [DefaultTopic] = 3,
        ["connection-status"] = 3,
        ["failover-commands"] = 3,
        ["health-reports"] = 3,
    };

    /// <summary>Consumer group that owns the committed offsets; default: <c>{ServiceId}-{Region}-{provider}</c>, one per region.</summary>
    public string? GroupId { get; set; }

    /// <summary>
    /// Events held while no broker acknowledges them (librdkafka's producer queue, in order per partition). A publish
    /// into a full buffer fails with <see cref="KafkaBufferFullException"/>.
    /// </summary>
    public int BufferCapacity { get; set; } = 100_000;

    /// <summary>
    /// How long a publish waits for the brokers' acknowledgement (acks=all). Past it the event stays held and is
    /// delivered when a broker returns; the publish returns and the outage is logged once.
    /// </summary>
    public TimeSpan PublishAckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where a partition without a committed offset starts: earliest (nothing missed) or latest.</summary>
    public string AutoOffsetReset { get; set; } = "earliest";

    /// <summary>Events kept per queue in the Orleans cache while subscribers catch up.</summary>
    public int CacheSize { get; set; } = 4096;

    /// <summary>Event ids each receiver remembers to drop redelivered duplicates of the same event.</summary>
    public int DeduplicationWindow { get; set; } = 10_000;

    /// <summary>
    /// The stream key that means "every stream of this namespace" (<c>ControllerStreams.AllKey</c>). Publishes on it are
    /// not written (every event is written once, on its own stream); every event read is also delivered to it.
    /// Null: no such key, every stream is written.
    /// </summary>
    public string? AllStreamKey { get; set; } = "*";

    /// <summary>The CloudEvents <c>source</c> names the region and the silo that published.</summary>
    public string Region { get; set; } = "local";

    /// <summary>Copies every setting (a host hands options bound elsewhere to the provider's named options).</summary>
    public void CopyTo(KafkaStreamOptions to)
    {
        to.BootstrapServers = BootstrapServers;
        to.SecurityProtocol = SecurityProtocol;
        to.SaslMechanism = SaslMechanism;
        to.SaslUsername = SaslUsername;
        to.SaslPassword = SaslPassword;
        to.SslCaLocation = SslCaLocation;
        to.Properties = new(Properties, StringComparer.Ordinal);
        to.Topics = new(Topics, StringComparer.Ordinal);
        to.Partitions = new(Partitions, StringComparer.Ordinal);
        to.GroupId = GroupId;
        to.BufferCapacity = BufferCapacity;
        to.PublishAckTimeout = PublishAckTimeout;
        to.AutoOffsetReset = AutoOffsetReset;
        to.CacheSize = CacheSize;
        to.DeduplicationWindow = DeduplicationWindow;
        to.AllStreamKey = AllStreamKey;
        to.Region = Region;
    }

    public string TopicFor(string streamNamespace) => Topics.TryGetValue(streamNamespace, out var topic) ? topic : DefaultTopic;

    /// <summary>The first problem, as "Key must ..." relative to the section; null when the options are usable.</summary>
    public string? FindProblem()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
            return "BootstrapServers is required (host:port[,host:port...])";
        foreach (var server in BootstrapServers.Split(',', StringSplitOptions.TrimEntries))
        {
            var colon = server.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(server.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
                return $"BootstrapServers entry '{server}' must be host:port";
        }
        if (SecurityProtocol is not null && SecurityProtocol.ToLowerInvariant() is not ("plaintext" or "ssl" or "sasl_plaintext" or "sasl_ssl"))
            return $"SecurityProtocol must be plaintext, ssl, sasl_plaintext or sasl_ssl (was '{SecurityProtocol}')";
        if (SaslMechanism is not null && SecurityProtocol?.StartsWith("sasl", StringComparison.OrdinalIgnoreCase) != true)
            return "SecurityProtocol must be sasl_plaintext or sasl_ssl when SaslMechanism is set";
        if (SaslPassword?.StartsWith("REPLACE-ME", StringComparison.Ordinal) == true)
            return "SaslPassword is the placeholder shipped in deploy/overlays/*/secrets/kafka.env; generate secrets with deploy/make-secrets.sh (deploy/README.md) or set it from your secret store";
        foreach (var topic in Topics.Values.Append(DefaultTopic).Distinct(StringComparer.Ordinal))
        {
            if (!Partitions.TryGetValue(topic, out var count))
                return $"Partitions:{topic} is required (the partition count of topic {topic})";
            if (count < 1)
                return $"Partitions:{topic} must be at least 1 (was {count})";
        }
        if (BufferCapacity < 1)
            return $"BufferCapacity must be at least 1 (was {BufferCapacity})";
        if (PublishAckTimeout <= TimeSpan.Zero)
            return $"PublishAckTimeout must be positive (was {PublishAckTimeout})";
        if (AutoOffsetReset.ToLowerInvariant() is not ("earliest" or "latest"))
            return $"AutoOffsetReset must be earliest or latest (was '{AutoOffsetReset}')";
        if (CacheSize < 16)
            return $"CacheSize must be at least 16 (was {CacheSize})";
        if (DeduplicationWindow < 0)
            return $"DeduplicationWindow must not be negative (was {DeduplicationWindow})";
        if (string.IsNullOrWhiteSpace(Region))
            return "Region must not be empty";
        return null;
    }
}
