using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Streams.Kafka;

namespace OrleansControl.Silo.Extensions;

/// <summary>
/// The controller's stream provider: memory streams on the embedded default (no broker needed), Kafka with
/// <c>Controller:Streams=kafka</c> (settings in <c>Controller:Kafka</c>, validated at start-up). Events only (status
/// changes, moves started, server health): commands go straight into the sidecar outbox grains.
/// </summary>
public static class StreamsHosting
{
    public static ISiloBuilder AddControllerStreams(this ISiloBuilder silo, ControllerSiloOptions options)
    {
        if (options.Streams != StreamsKind.Kafka)
            return silo.AddMemoryStreams(ControllerStreams.ProviderName);
        var kafka = options.Kafka ?? new KafkaStreamOptions();
        return silo.AddKafkaStreams(ControllerStreams.ProviderName, o => o.Configure(k =>
        {
            kafka.CopyTo(k);
            k.Region = options.Region;
        }));
    }
}
