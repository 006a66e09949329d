using System.Reflection;
using System.Runtime.InteropServices;

namespace OrleansControl.KafkaBroker;

/// <summary>
/// The few librdkafka entry points the mock cluster needs. They must bind to the very file Confluent.Kafka loads: on
/// Debian 12 the default <c>librdkafka.so</c> needs <c>libsasl2.so.3</c> (absent), so both load
/// <c>centos8-librdkafka.so</c> from the same package; two copies in one process would be two unrelated libraries.
/// </summary>
internal static partial class LibrdkafkaNative
{
    private const string Library = "librdkafka-mock";
    private static readonly Lock Gate = new();
    private static IntPtr handle;

    /// <summary>Loads librdkafka once for this process: for Confluent.Kafka and for the P/Invokes below.</summary>
    public static string EnsureLoaded()
    {
        lock (Gate)
        {
            if (handle != IntPtr.Zero)
                return LoadedPath!;
            // Confluent.Kafka picks the file (its Load(path) overload needs libdl.so, absent here); we bind to the
            // same one, found in the process's memory map.
            if (!Confluent.Kafka.Library.IsLoaded)
                Confluent.Kafka.Library.Load();
            var path = FindLoadedLibrdkafka() ?? NativeFile();
            handle = NativeLibrary.Load(path);
            LoadedPath = path;
            NativeLibrary.SetDllImportResolver(typeof(LibrdkafkaNative).Assembly, Resolve);
            return path;
        }
    }

    public static string? LoadedPath { get; private set; }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == Library ? handle : IntPtr.Zero;

    /// <summary>The centos8 build (no libsasl2 dependency), shipped by librdkafka.redist next to the app.</summary>
    private static string NativeFile()
    {
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var dir = Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native");
        var centos = Path.Combine(dir, "centos8-librdkafka.so");
        return File.Exists(centos) ? centos : Path.Combine(dir, "librdkafka.so");
    }

    private static string? FindLoadedLibrdkafka()
    {
        if (!File.Exists("/proc/self/maps"))
            return null;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var at = line.IndexOf('/', StringComparison.Ordinal);
            if (at >= 0 && line.EndsWith("librdkafka.so", StringComparison.Ordinal))
                return line[at..];
        }
        return null;
    }

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_new")]
    public static partial IntPtr ConfNew();

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ConfSet(IntPtr conf, string name, string value, byte[] errstr, nuint errstrSize);

    [LibraryImport(Library, EntryPoint = "rd_kafka_new")]
    public static partial IntPtr New(int type, IntPtr conf, byte[] errstr, nuint errstrSize);

    [LibraryImport(Library, EntryPoint = "rd_kafka_destroy")]
    public static partial void Destroy(IntPtr rk);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_new")]
    public static partial IntPtr MockClusterNew(IntPtr rk, int brokerCount);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    public static partial void MockClusterDestroy(IntPtr cluster);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    public static partial IntPtr MockClusterBootstraps(IntPtr cluster);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MockTopicCreate(IntPtr cluster, string topic, int partitions, int replicationFactor);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_down")]
    public static partial int MockBrokerSetDown(IntPtr cluster, int brokerId);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_up")]
    public static partial int MockBrokerSetUp(IntPtr cluster, int brokerId);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_partition_set_leader", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MockPartitionSetLeader(IntPtr cluster, string topic, int partition, int brokerId);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    public static partial void MockGroupInitialRebalanceDelayMs(IntPtr cluster, int delayMs);

    [LibraryImport(Library, EntryPoint = "rd_kafka_err2str")]
    public static partial IntPtr ErrorToString(int error);

    public static string Describe(int error) => Marshal.PtrToStringUTF8(ErrorToString(error)) ?? $"error {error}";
}
