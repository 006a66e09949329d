using Microsoft.Extensions.Options;
using OrleansControl.Streams.Kafka;

// Orleans' own provider extensions live in Orleans.Hosting; so does this one.
namespace Orleans.Hosting;

public static class KafkaStreamsHosting
{
    /// <summary>A persistent stream provider named <paramref name="name"/> on Kafka (<see cref="KafkaQueueAdapterFactory"/>).</summary>
    public static ISiloBuilder AddKafkaStreams(this ISiloBuilder silo, string name, Action<OptionsBuilder<KafkaStreamOptions>> configure) =>
        silo.AddPersistentStreams(name, KafkaQueueAdapterFactory.Create, stream => stream.Configure(configure));

    /// <summary>
    /// The same provider for a cluster client: it publishes straight to Kafka and subscribes through the silos
    /// (which do all the reading). The options must name the same topics and partitions as the silos'.
    /// </summary>
    public static IClientBuilder AddKafkaStreams(this IClientBuilder client, string name, Action<OptionsBuilder<KafkaStreamOptions>> configure) =>
        client.AddPersistentStreams(name, KafkaQueueAdapterFactory.Create, stream => stream.Configure(configure));
}
