using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Silo.Extensions;
using OrleansControl.Streams.Kafka;

namespace OrleansControl.Streams.Tests;

/// <summary>Controller:Streams=kafka through the silo's own composition: bound from configuration, refused when unusable.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData(null, "Controller:Kafka:BootstrapServers")]
    [InlineData("kafka-1", "Controller:Kafka:BootstrapServers entry 'kafka-1'")]
    public void Kafka_streams_without_usable_brokers_stop_start_up_and_name_the_setting(string? bootstrap, string named)
    {
        var settings = new Dictionary<string, string?> { ["Controller:Streams"] = "kafka", ["Controller:Kafka:BootstrapServers"] = bootstrap };
        var error = Assert.ThrowsAny<OptionsValidationException>(() => Build(settings));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_security_setting_is_refused_by_name()
    {
        var error = Assert.ThrowsAny<OptionsValidationException>(() => Build(new()
        {
            ["Controller:Streams"] = "kafka",
            ["Controller:Kafka:BootstrapServers"] = "kafka-1:9092",
            ["Controller:Kafka:SecurityProtocol"] = "tls",
        }));
        Assert.Contains("Controller:Kafka:SecurityProtocol", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kafka_settings_reach_the_provider_with_security_passed_through()
    {
        using var app = Build(new()
        {
            ["Controller:Region"] = "eu-west",
            ["Controller:Streams"] = "kafka",
            ["Controller:Kafka:BootstrapServers"] = "kafka-1:9092,kafka-2:9092",
            ["Controller:Kafka:SecurityProtocol"] = "sasl_ssl",
            ["Controller:Kafka:SaslMechanism"] = "SCRAM-SHA-512",
            ["Controller:Kafka:SaslUsername"] = "controller",
            ["Controller:Kafka:Properties:ssl.endpoint.identification.algorithm"] = "https",
            ["Controller:Kafka:Partitions:connection-status"] = "12",
        });
        var kafka = app.Services.GetRequiredService<IOptionsMonitor<KafkaStreamOptions>>().Get(ControllerStreams.ProviderName);
        Assert.Equal("kafka-1:9092,kafka-2:9092", kafka.BootstrapServers);
        Assert.Equal(("sasl_ssl", "SCRAM-SHA-512", "controller"), (kafka.SecurityProtocol, kafka.SaslMechanism, kafka.SaslUsername));
        Assert.Equal("https", kafka.Properties["ssl.endpoint.identification.algorithm"]);
        Assert.Equal(12, kafka.Partitions["connection-status"]);
        Assert.Equal(3, kafka.Partitions["health-reports"]);
        Assert.Equal("eu-west", kafka.Region);
    }

    [Fact]
    public void The_embedded_default_keeps_memory_streams()
    {
        using var app = Build([]);
        var kafka = app.Services.GetRequiredService<IOptionsMonitor<KafkaStreamOptions>>().Get(ControllerStreams.ProviderName);
        Assert.Equal("", kafka.BootstrapServers);
    }

    private static WebApplication Build(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddControllerSilo();
        return builder.Build();
    }
}
