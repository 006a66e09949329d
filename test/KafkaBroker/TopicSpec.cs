namespace OrleansControl.KafkaBroker;

/// <summary>A topic the broker creates at start-up.</summary>
public sealed record TopicSpec(string Name, int Partitions)
{
    /// <summary>
    /// The controller's four topics, with the partition counts the provider's defaults expect
    /// (Streams.Kafka <c>KafkaStreamOptions</c>; docs/events.md lists the deploy settings).
    /// </summary>
    public static IReadOnlyList<TopicSpec> Controller { get; } =
    [
        new("controller-events", 3),
        new("connection-status", 3),
        new("failover-commands", 3),
        new("health-reports", 3),
    ];

    /// <summary>"name:partitions", e.g. <c>connection-status:6</c>.</summary>
    public static TopicSpec Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || parts[0].Length == 0 || !int.TryParse(parts[1], out var partitions) || partitions < 1)
            throw new FormatException($"topic '{text}' is not name:partitions");
        return new(parts[0], partitions);
    }
}
