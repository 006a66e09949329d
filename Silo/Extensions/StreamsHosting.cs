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
            // Polled every 10 ms, not Orleans' default 100 ms: at 100 ms a burst of registrations (10,000 connections in
            // the heartbeat benchmark) filled the memory queues (16,384 each) faster than they drained. Events refused
            // meanwhile are not lost (the grains' event outbox retries them), but they are late.
            return silo.AddMemoryStreams(ControllerStreams.ProviderName, streams => streams.ConfigurePullingAgent(agent =>
                agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(10))));
        var kafka = options.Kafka ?? new KafkaStreamOptions();
        return silo.AddKafkaStreams(ControllerStreams.ProviderName, o => o.Configure(k =>
        {
            kafka.CopyTo(k);
            k.Region = options.Region;
        }));
    }
}
