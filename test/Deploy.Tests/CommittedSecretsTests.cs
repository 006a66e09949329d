using System.Text;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using OrleansControl.Deploy.Tests.Infrastructure;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Deploy.Tests;

/// <summary>
/// No secret committed in deploy/ is usable: every value the overlays turn into a Secret (or a token hash) is a
/// REPLACE-ME placeholder that the controller, the gateway and the sidecar refuse at start-up, and
/// deploy/make-secrets.sh generates fresh random ones (different on every run) that they accept.
/// </summary>
public sealed class CommittedSecretsTests
{
    private const string Placeholder = "REPLACE-ME-run-deploy-make-secrets.sh";

    public static TheoryData<string> OverlayNames => new(Overlays.Names);

    [Fact]
    public void Every_committed_secret_file_holds_placeholders_only()
    {
        var files = Directory.EnumerateFiles(Path.Combine(Overlays.DeployDir, "overlays"), "*.env", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            foreach (var line in File.ReadAllLines(file).Where(l => l.Length > 0 && !l.StartsWith('#')))
            {
                var (key, value) = (line.Split('=', 2)[0], line.Split('=', 2)[1]);
                var isSecret = !key.EndsWith("__Subject", StringComparison.Ordinal) && !key.EndsWith("__Role", StringComparison.Ordinal);
                Assert.True(!isSecret || value == Placeholder, $"{file}: {key} is not the placeholder: a usable secret is committed");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Every_committed_secret_renders_to_placeholders(string overlay)
    {
        var secrets = Overlays.CommittedOf<V1Secret>(overlay).ToList();
        Assert.NotEmpty(secrets);
        Assert.All(secrets.SelectMany(s => s.Data.Select(d => (s.Metadata.Name, d.Key, Value: Encoding.UTF8.GetString(d.Value)))),
            d => Assert.True(d.Value == Placeholder, $"secret {d.Name} key {d.Key} is not the placeholder"));
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void The_controller_refuses_the_committed_redis_password(string overlay)
    {
        var error = RedisProblem(Overlays.CommittedOf<V1Secret>(overlay));
        Assert.NotNull(error);
        Assert.Contains("placeholder password", error, StringComparison.Ordinal);
        Assert.Contains("deploy/make-secrets.sh", error, StringComparison.Ordinal);
        Assert.Null(RedisProblem(Overlays.Of<V1Secret>(overlay))); // the generated one passes
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void The_gateway_refuses_the_committed_token_hashes(string overlay)
    {
        var config = Overlays.CommittedOf<V1ConfigMap>(overlay).Single(c => c.Metadata.Name.StartsWith("orleanscontrol-controller", StringComparison.Ordinal)).Data;
        var options = new GatewayOptions();
        new ConfigurationBuilder().AddInMemoryCollection(config.ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => (string?)kv.Value))
            .Build().GetSection(GatewayOptions.SectionName).Bind(options);
        Assert.NotEmpty(options.Auth.Tokens);
        var result = new GatewayOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("Gateway:Auth:Tokens:0:Sha256 must be 64 hex characters", result.FailureMessage, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_bank_sidecar_refuses_the_committed_token()
    {
        var sts = Overlays.CommittedOf<V1StatefulSet>("bank").Single(s => s.Metadata.Name == "bank-client");
        var sidecar = sts.Spec.Template.Spec.Containers.Single(c => c.Name == "sidecar");
        using var files = new PodFiles("bank", sts.Spec.Template.Spec, sidecar, committed: true);
        var agent = new SidecarAgentOptions();
        new ConfigurationBuilder().AddInMemoryCollection(files.Settings("bank-client-0")).Build().GetSection(SidecarAgentOptions.Section).Bind(agent);

        Assert.Contains(agent.Validate(), e => e.Contains("holds the placeholder token shipped in deploy/", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void Make_secrets_generates_fresh_random_values_on_every_run()
    {
        var first = Overlays.GenerateSecrets();
        var second = Overlays.GenerateSecrets();
        try
        {
            var values = new[] { first, second }.Select(dir => Directory.EnumerateFiles(Path.Combine(dir, "overlays"), "*.env", SearchOption.AllDirectories)
                .SelectMany(File.ReadAllLines).Select(l => l.Split('=', 2)).Where(p => !p[0].EndsWith("__Subject", StringComparison.Ordinal) && !p[0].EndsWith("__Role", StringComparison.Ordinal))
                .Select(p => p[1]).ToList()).ToList();
            Assert.All(values.SelectMany(v => v), v => Assert.Matches("^[0-9a-f]{64}$", v));
            Assert.Equal(values[0].Count, values[0].Distinct().Count());
            Assert.Empty(values[0].Intersect(values[1]));
            // The repository's own files are untouched: the secrets go to the copy.
            Assert.Contains(Placeholder, File.ReadAllText(Path.Combine(Overlays.DeployDir, "overlays", "bank", "secrets", "redis.env")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(first)!, recursive: true);
            Directory.Delete(Path.GetDirectoryName(second)!, recursive: true);
        }
    }

    /// <summary>The controller's Redis settings with the password its pod would get from the Secret.</summary>
    private static string? RedisProblem(IEnumerable<V1Secret> secrets)
    {
        var password = Encoding.UTF8.GetString(secrets.Single(s => s.Metadata.Name.StartsWith("orleanscontrol-redis", StringComparison.Ordinal)).Data["password"]);
        var deployment = k8s.KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(Overlays.DeployDir, "base", "controller-deployment.yaml"))).OfType<V1Deployment>().Single();
        var redis = deployment.Spec.Template.Spec.Containers.Single().Env.Single(e => e.Name == "Controller__Redis").Value.Replace("$(REDIS_PASSWORD)", password, StringComparison.Ordinal);
        return ControllerRedis.FindProblem(redis, new RedisTlsOptions { Enabled = true }, "Controller:");
    }
}
