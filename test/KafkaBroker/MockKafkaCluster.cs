using System.Runtime.InteropServices;
using System.Text;

namespace OrleansControl.KafkaBroker;

/// <summary>
/// librdkafka's Kafka-protocol mock cluster on loopback: real clients (Confluent.Kafka, kcat) connect to it over TCP.
/// Brokers are numbered 1..N. Topics are created through the mock API (AdminClient.CreateTopics fails on the mock).
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private const int ProducerType = 0;
    private readonly Lock gate = new();
    private IntPtr rk;
    private IntPtr cluster;

    private MockKafkaCluster(IntPtr rk, IntPtr cluster, int brokers, IReadOnlyList<TopicSpec> topics)
    {
        this.rk = rk;
        this.cluster = cluster;
        Brokers = brokers;
        Topics = topics;
        BootstrapServers = Marshal.PtrToStringUTF8(LibrdkafkaNative.MockClusterBootstraps(cluster))
            ?? throw new InvalidOperationException("the mock cluster gave no bootstrap servers");
    }

    /// <summary>Comma-separated <c>127.0.0.1:port</c> of every broker.</summary>
    public string BootstrapServers { get; }

    public int Brokers { get; }

    public IReadOnlyList<TopicSpec> Topics { get; }

    /// <summary>The native file both this cluster and Confluent.Kafka use.</summary>
    public static string NativeLibraryPath => LibrdkafkaNative.LoadedPath ?? LibrdkafkaNative.EnsureLoaded();

    /// <summary>Starts <paramref name="brokers"/> brokers and creates <paramref name="topics"/> (default: the controller's four).</summary>
    public static MockKafkaCluster Start(int brokers = 3, IReadOnlyList<TopicSpec>? topics = null)
    {
        LibrdkafkaNative.EnsureLoaded();
        topics ??= TopicSpec.Controller;
        var errors = new byte[512];
        var conf = LibrdkafkaNative.ConfNew();
        // The handle that owns the mock cluster never talks to a broker itself.
        Set(conf, "bootstrap.servers", "", errors);
        Set(conf, "log_level", "3", errors);
        var rk = LibrdkafkaNative.New(ProducerType, conf, errors, (nuint)errors.Length);
        if (rk == IntPtr.Zero)
            throw new InvalidOperationException($"rd_kafka_new failed: {Text(errors)}");
        var cluster = LibrdkafkaNative.MockClusterNew(rk, brokers);
        if (cluster == IntPtr.Zero)
        {
            LibrdkafkaNative.Destroy(rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        var mock = new MockKafkaCluster(rk, cluster, brokers, topics);
        try
        {
            // Consumer groups form at once instead of after the broker's default 3 s.
            LibrdkafkaNative.MockGroupInitialRebalanceDelayMs(cluster, 0);
            foreach (var topic in topics)
                mock.CreateTopic(topic.Name, topic.Partitions, Math.Min(brokers, 3));
        }
        catch
        {
            mock.Dispose();
            throw;
        }
        return mock;
    }

    public void CreateTopic(string name, int partitions, int replicationFactor) =>
        Check(LibrdkafkaNative.MockTopicCreate(Handle, name, partitions, replicationFactor), $"create topic {name}");

    /// <summary>The broker stops answering: its connections are closed and new ones refused until <see cref="SetBrokerUp"/>.</summary>
    public void SetBrokerDown(int brokerId) => Check(LibrdkafkaNative.MockBrokerSetDown(Handle, brokerId), $"broker {brokerId} down");

    public void SetBrokerUp(int brokerId) => Check(LibrdkafkaNative.MockBrokerSetUp(Handle, brokerId), $"broker {brokerId} up");

    public void SetAllBrokersDown()
    {
        for (var id = 1; id <= Brokers; id++)
            SetBrokerDown(id);
    }

    public void SetAllBrokersUp()
    {
        for (var id = 1; id <= Brokers; id++)
            SetBrokerUp(id);
    }

    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        Check(LibrdkafkaNative.MockPartitionSetLeader(Handle, topic, partition, brokerId), $"leader of {topic}[{partition}] to broker {brokerId}");

    public void Dispose()
    {
        lock (gate)
        {
            if (cluster != IntPtr.Zero)
                LibrdkafkaNative.MockClusterDestroy(cluster);
            if (rk != IntPtr.Zero)
                LibrdkafkaNative.Destroy(rk);
            cluster = IntPtr.Zero;
            rk = IntPtr.Zero;
        }
    }

    private IntPtr Handle => cluster != IntPtr.Zero ? cluster : throw new ObjectDisposedException(nameof(MockKafkaCluster));

    private static void Set(IntPtr conf, string name, string value, byte[] errors)
    {
        if (LibrdkafkaNative.ConfSet(conf, name, value, errors, (nuint)errors.Length) != 0)
            throw new InvalidOperationException($"rd_kafka_conf_set {name}: {Text(errors)}");
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
            throw new InvalidOperationException($"{what}: {LibrdkafkaNative.Describe(error)}");
    }

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes, 0, Math.Max(0, Array.IndexOf(bytes, (byte)0)));
}
