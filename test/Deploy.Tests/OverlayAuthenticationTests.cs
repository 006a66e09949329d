using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using OrleansControl.Deploy.Tests.Infrastructure;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Sidecar.Agent;

namespace OrleansControl.Deploy.Tests;

/// <summary>
/// The shipped configuration authenticates: each bank-client pod's sidecar reads a token (from the Secret the
/// overlay generates, mounted as files named after the pods) whose SHA-256 the bank gateway lists with that pod's
/// name as subject, and the sidecar id is the pod name; both gateways' configuration passes their validator.
/// </summary>
public sealed class OverlayAuthenticationTests
{
    [SkippableFact]
    public void Every_bank_sidecar_presents_a_token_the_bank_gateway_accepts_as_that_sidecar()
    {
        var sts = Overlays.Of<V1StatefulSet>("bank").Single(s => s.Metadata.Name == "bank-client");
        var pod = sts.Spec.Template.Spec;
        var sidecar = pod.Containers.Single(c => c.Name == "sidecar");
        var env = sidecar.Env.ToDictionary(e => e.Name);
        Assert.Equal("metadata.name", env["POD_NAME"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("$(POD_NAME)", env["Sidecar__Agent__SidecarId"].Value);
        var tokenPath = env["Sidecar__Agent__BearerTokenPath"].Value;
        var mount = sidecar.VolumeMounts.Single(m => tokenPath.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
        Assert.Equal(mount.MountPath + "/$(POD_NAME)", tokenPath);
        var secret = Overlays.Of<V1Secret>("bank").Single(s => s.Metadata.Name == pod.Volumes.Single(v => v.Name == mount.Name).Secret.SecretName);
        var gateway = GatewayOptionsOf("bank");

        for (var i = 0; i < sts.Spec.Replicas; i++)
        {
            var podName = $"{sts.Metadata.Name}-{i}";
            Assert.True(secret.Data.TryGetValue(podName, out var token), $"secret {secret.Metadata.Name} has no token for {podName}");
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(token).Trim())));
            var entry = gateway.Auth.Tokens.SingleOrDefault(t => t.Sha256 == hash);
            Assert.True(entry is not null, $"the bank gateway does not know {podName}'s token");
            Assert.Equal((podName, "sidecar"), (entry.Subject, entry.Role));
        }
        Assert.Equal(sts.Spec.Replicas, gateway.Auth.Tokens.Count(t => t.Role == "sidecar"));
    }

    [SkippableFact]
    public void The_bank_sidecar_configuration_passes_its_validation_with_the_secrets_mounted()
    {
        var sts = Overlays.Of<V1StatefulSet>("bank").Single(s => s.Metadata.Name == "bank-client");
        var sidecar = sts.Spec.Template.Spec.Containers.Single(c => c.Name == "sidecar");
        using var files = new PodFiles("bank", sts.Spec.Template.Spec, sidecar);
        var settings = files.Settings("bank-client-0");

        var agent = new SidecarAgentOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(SidecarAgentOptions.Section).Bind(agent);

        Assert.Empty(agent.Validate());
        Assert.Equal("bank-client-0", agent.SidecarId);
        Assert.False(agent.AllowUntrustedController);
        Assert.StartsWith("https://", agent.Controller, StringComparison.Ordinal);
        Assert.NotNull(agent.TrustedCaPath);
        Assert.StartsWith("dev-", File.ReadAllText(agent.BearerTokenPath!), StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("bank")]
    [InlineData("scheme")]
    public void Each_overlay_gateway_configuration_passes_the_gateway_start_up_validation(string overlay)
    {
        var result = new GatewayOptionsValidator().Validate(null, GatewayOptionsOf(overlay));
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [SkippableFact]
    public void The_scheme_registrar_token_is_known_to_the_scheme_gateway_as_an_operator()
    {
        var secret = Overlays.Of<V1Secret>("scheme").Single(s => s.Metadata.Name.StartsWith("scheme-registrar-token", StringComparison.Ordinal));
        var hash = Convert.ToHexStringLower(SHA256.HashData(secret.Data["token"]));
        var entry = Assert.Single(GatewayOptionsOf("scheme").Auth.Tokens);
        Assert.Equal(("scheme-registrar", "operator", hash), (entry.Subject, entry.Role, entry.Sha256));
    }

    /// <summary>The controller container's Gateway settings: the overlay's ConfigMap plus the Deployment's own env.</summary>
    private static GatewayOptions GatewayOptionsOf(string overlay)
    {
        var controller = Overlays.Containers(overlay).Single(x => x.Workload == "orleanscontrol-controller").Container;
        var settings = Overlays.ControllerConfig(overlay)
            .Concat(controller.Env.Where(e => e.Value is not null).Select(e => KeyValuePair.Create(e.Name, e.Value)))
            .ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => (string?)kv.Value);
        var options = new GatewayOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(GatewayOptions.SectionName).Bind(options);
        return options;
    }
}
