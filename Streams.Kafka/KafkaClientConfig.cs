using Confluent.Kafka;

namespace OrleansControl.Streams.Kafka;

/// <summary>The librdkafka settings every client of the provider shares: brokers, security, pass-through properties.</summary>
internal static class KafkaClientConfig
{
    public static T Apply<T>(T config, KafkaStreamOptions o, string clientId) where T : ClientConfig
    {
        config.BootstrapServers = o.BootstrapServers;
        config.ClientId = clientId;
        if (o.SecurityProtocol is not null)
            config.Set("security.protocol", o.SecurityProtocol.ToLowerInvariant());
        if (o.SaslMechanism is not null)
            config.Set("sasl.mechanism", o.SaslMechanism);
        if (o.SaslUsername is not null)
            config.Set("sasl.username", o.SaslUsername);
        if (o.SaslPassword is not null)
            config.Set("sasl.password", o.SaslPassword);
        if (o.SslCaLocation is not null)
            config.Set("ssl.ca.location", o.SslCaLocation);
        foreach (var (key, value) in o.Properties)
            config.Set(key, value);
        return config;
    }
}
