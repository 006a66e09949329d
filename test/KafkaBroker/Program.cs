using System.Runtime.InteropServices;
using OrleansControl.KafkaBroker;

// Usage: OrleansControl.KafkaBroker [--brokers N] [--topic name:partitions]... [--bootstrap-file PATH]
// Prints "bootstrap.servers=127.0.0.1:p1,p2,p3" and then reads commands on standard input until "stop" or EOF:
//   down ID | up ID | down all | up all | leader TOPIC PARTITION ID | stop
var brokers = 3;
var topics = new List<TopicSpec>();
string? bootstrapFile = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--brokers": brokers = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--topic": topics.Add(TopicSpec.Parse(args[++i])); break;
        case "--bootstrap-file": bootstrapFile = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'");
            return 2;
    }
}

using var cluster = MockKafkaCluster.Start(brokers, topics.Count > 0 ? topics : null);
using var stopping = new CancellationTokenSource();
// SIGTERM and SIGINT stop the brokers cleanly (the mock cluster is destroyed before the process exits).
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

Console.WriteLine($"bootstrap.servers={cluster.BootstrapServers}");
foreach (var topic in cluster.Topics)
    Console.WriteLine($"topic {topic.Name} partitions={topic.Partitions}");
if (bootstrapFile is not null)
    await File.WriteAllTextAsync(bootstrapFile, cluster.BootstrapServers + "\n");

var input = Task.Run(() => Console.In.ReadLineAsync(stopping.Token).AsTask());
while (!stopping.IsCancellationRequested)
{
    string? line;
    try
    {
        line = await input;
    }
    catch (OperationCanceledException)
    {
        break;
    }
    if (line is null)
    {
        // No standard input (run in the background): keep serving until a signal.
        try { await Task.Delay(Timeout.Infinite, stopping.Token); } catch (OperationCanceledException) { }
        break;
    }
    var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    try
    {
        switch (words)
        {
            case ["stop"]: stopping.Cancel(); continue;
            case ["down", "all"]: cluster.SetAllBrokersDown(); break;
            case ["up", "all"]: cluster.SetAllBrokersUp(); break;
            case ["down", var id]: cluster.SetBrokerDown(int.Parse(id, System.Globalization.CultureInfo.InvariantCulture)); break;
            case ["up", var id]: cluster.SetBrokerUp(int.Parse(id, System.Globalization.CultureInfo.InvariantCulture)); break;
            case ["leader", var topic, var partition, var id]:
                cluster.SetPartitionLeader(topic, int.Parse(partition, System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(id, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case []: break;
            default: Console.WriteLine($"? {line}"); break;
        }
        if (words.Length > 0)
            Console.WriteLine($"ok {line}");
    }
    catch (Exception ex) when (ex is InvalidOperationException or FormatException)
    {
        Console.WriteLine($"error {ex.Message}");
    }
    input = Task.Run(() => Console.In.ReadLineAsync(stopping.Token).AsTask());
}
Console.WriteLine("stopped");
return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stopping.Cancel();
}
