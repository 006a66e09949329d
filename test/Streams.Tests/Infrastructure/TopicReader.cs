using System.Text.Json;
using Confluent.Kafka;

namespace OrleansControl.Streams.Tests.Infrastructure;

/// <summary>A plain Confluent.Kafka consumer (no Orleans): reads every partition of a topic from the beginning.</summary>
public static class TopicReader
{
    public sealed record Record(string Key, int Partition, long Offset, JsonElement CloudEvent, string? ContentType);

    public static async Task<List<Record>> ReadUntilAsync(string bootstrap, string topic, int partitions, Func<List<Record>, bool> done, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"reader-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var records = new List<Record>();
        var deadline = DateTime.UtcNow + timeout;
        await Task.Run(() =>
        {
            while (!done(records) && DateTime.UtcNow < deadline)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r?.Message is null)
                    continue;
                var header = r.Message.Headers.TryGetLastBytes("content-type", out var bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : null;
                using var doc = JsonDocument.Parse(r.Message.Value);
                records.Add(new Record(r.Message.Key, r.Partition.Value, r.Offset.Value, doc.RootElement.Clone(), header));
            }
        });
        consumer.Close();
        return records;
    }
}
