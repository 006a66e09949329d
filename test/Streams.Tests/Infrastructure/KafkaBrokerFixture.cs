using OrleansControl.KafkaBroker;

namespace OrleansControl.Streams.Tests.Infrastructure;

/// <summary>
/// librdkafka's mock cluster (3 brokers, the controller's four topics) in the test process, started before any Kafka
/// client so both bind to the same native library.
/// </summary>
public sealed class KafkaBrokerFixture : IDisposable
{
    public MockKafkaCluster Broker { get; } = MockKafkaCluster.Start(brokers: 3);

    public string BootstrapServers => Broker.BootstrapServers;

    /// <summary>A fresh topic for tests that must not see anyone else's events.</summary>
    public string NewTopic(string prefix, int partitions)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        Broker.CreateTopic(name, partitions, 3);
        return name;
    }

    public void Dispose() => Broker.Dispose();
}
