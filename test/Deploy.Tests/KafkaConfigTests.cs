using k8s.Models;
using Microsoft.Extensions.Configuration;
using OrleansControl.Deploy.Tests.Infrastructure;
using OrleansControl.Streams.Kafka;

namespace OrleansControl.Deploy.Tests;

/// <summary>
/// The overlays run the controllers on Kafka as docs/events.md declares it: brokers, SASL/SCRAM over TLS with the
/// password from a Secret that has it, the topics' partition counts, and settings the provider's own validation accepts.
/// </summary>
public sealed class KafkaConfigTests
{
    public static TheoryData<string> OverlayNames => new(Overlays.Names);

    private static readonly Dictionary<string, int> DeclaredPartitions = new()
    {
        ["connection-status"] = 12,
        ["failover-commands"] = 6,
        ["health-reports"] = 6,
        ["controller-events"] = 6,
    };

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void The_controller_runs_on_Kafka_with_validated_settings_and_its_password_from_a_secret(string overlay)
    {
        var config = Overlays.ControllerConfig(overlay);
        Assert.Equal("kafka", config["Controller__Streams"]);
        Assert.Equal("sasl_ssl", config["Controller__Kafka__SecurityProtocol"]);
        Assert.DoesNotContain(config.Keys, k => k.Contains("Password", StringComparison.OrdinalIgnoreCase));

        var options = new ConfigurationBuilder()
            .AddInMemoryCollection(config.Where(c => c.Key.StartsWith("Controller__Kafka__", StringComparison.Ordinal))
                .Select(c => KeyValuePair.Create(c.Key["Controller__Kafka__".Length..].Replace("__", ":", StringComparison.Ordinal), (string?)c.Value)))
            .Build().Get<KafkaStreamOptions>()!;
        options.SaslPassword = "from-the-secret";
        Assert.Null(options.FindProblem());
        Assert.Equal(3, options.BootstrapServers.Split(',').Length);
        foreach (var (topic, partitions) in DeclaredPartitions)
            Assert.Equal(partitions, options.Partitions[topic]);

        var controller = Overlays.Containers(overlay).Single(x => x.Workload == "orleanscontrol-controller").Container;
        AssertPasswordFromSecret(overlay, controller, "Controller__Kafka__SaslPassword");
    }

    [SkippableFact]
    public void The_scheme_servers_consume_stop_sending_with_their_own_pod_as_server_id()
    {
        var server = Overlays.Containers("scheme").Single(x => x.Workload == "scheme-server").Container;
        Assert.Contains(server.Env, e => e.Name == "SCHEME__Kafka__BootstrapServers" && e.Value.Split(',').Length == 3);
        Assert.Equal("metadata.name", server.Env.Single(e => e.Name == "SCHEME__ServerId").ValueFrom.FieldRef.FieldPath);
        AssertPasswordFromSecret("scheme", server, "SCHEME__Kafka__SaslPassword");
    }

    private static void AssertPasswordFromSecret(string overlay, V1Container container, string name)
    {
        var reference = container.Env.Single(e => e.Name == name).ValueFrom.SecretKeyRef;
        var secret = Overlays.Of<V1Secret>(overlay).Single(s => s.Metadata.Name == reference.Name);
        Assert.True(secret.Data.ContainsKey(reference.Key), $"secret {reference.Name} has no key {reference.Key}");
    }
}
