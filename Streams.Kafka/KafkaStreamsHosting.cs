using Microsoft.Extensions.Options;
using OrleansControl.Streams.Kafka;

// Orleans' own provider extensions live in Orleans.Hosting; so does this one.
namespace Orleans.Hosting;

public static class KafkaStreamsHosting
{
    /// <summary>A persistent stream provider named <paramref name="name"/> on Kafka (<see cref="KafkaQueueAdapterFactory"/>).</summary>
    public static ISiloBuilder AddKafkaStreams(this ISiloBuilder silo, string name, Action<OptionsBuilder<KafkaStreamOptions>> configure) =>
        silo.AddPersistentStreams(name, KafkaQueueAdapterFactory.Create, stream => stream.Configure(configure));
}
