using k8s.Models;
using Microsoft.Extensions.Configuration;
using OrleansControl.Deploy.Tests.Infrastructure;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Deploy.Tests;

/// <summary>
/// The ISO link between the clusters is mutual TLS as shipped: the scheme servers require a client certificate from
/// the configured CA and a listed name, the bank sidecars present one and check the server against their own CA and
/// the expected name; both ends' settings pass the validation they get at start-up with the Secrets mounted.
/// </summary>
public sealed class IsoLinkTlsTests
{
    [SkippableFact]
    public void The_scheme_servers_require_a_client_certificate_from_the_bank_ca()
    {
        var deployment = Overlays.Of<V1Deployment>("scheme").Single(d => d.Metadata.Name == "scheme-server");
        var server = deployment.Spec.Template.Spec.Containers.Single(c => c.Name == "server");
        using var files = new PodFiles("scheme", deployment.Spec.Template.Spec, server);
        // The sample reads SCHEME__* (env prefix stripped), its TLS from the Tls section.
        var tls = new ConfigurationBuilder().AddInMemoryCollection(files.Settings("scheme-server-0", "SCHEME__")).Build().GetSection("Tls").Get<TlsOptions>();

        Assert.NotNull(tls);
        Assert.Empty(tls.Validate(server: true));
        Assert.True(tls.Enabled);
        Assert.True(tls.RequireClientCertificate, "a scheme server must refuse a client without a certificate");
        Assert.All(new[] { tls.CertificatePath, tls.KeyPath, tls.TrustedCaPath }, p => Assert.True(File.Exists(p), $"{p} is not mounted"));
        Assert.Contains("bank-iso-client", tls.AllowedClientNames);
    }

    [SkippableFact]
    public void The_bank_sidecars_present_a_client_certificate_and_check_the_scheme_server()
    {
        var sts = Overlays.Of<V1StatefulSet>("bank").Single(s => s.Metadata.Name == "bank-client");
        var sidecar = sts.Spec.Template.Spec.Containers.Single(c => c.Name == "sidecar");
        using var files = new PodFiles("bank", sts.Spec.Template.Spec, sidecar);
        var link = new IsoClientOptions();
        new ConfigurationBuilder().AddInMemoryCollection(files.Settings("bank-client-0")).Build().GetSection(IsoClientOptions.Section).Bind(link);

        Assert.Empty(link.Validate());
        var tls = link.Tls;
        Assert.NotNull(tls);
        Assert.True(tls.Enabled);
        Assert.False(tls.AllowUntrustedServer);
        Assert.All(new[] { tls.CertificatePath, tls.KeyPath, tls.TrustedCaPath }, p => Assert.True(File.Exists(p), $"{p} is not mounted"));
        // Servers are dialled by pod IP: the name checked in their certificate is this one, not the address.
        Assert.False(string.IsNullOrEmpty(tls.TargetHost));
    }

    [SkippableTheory]
    [InlineData("scheme", "scheme-server", "scheme-iso-tls")]
    [InlineData("bank", "bank-client", "bank-iso-tls")]
    public void The_iso_certificates_come_from_a_secret_created_at_install_never_committed(string overlay, string workload, string secretName)
    {
        var pod = Overlays.PodTemplates(overlay).Single(t => t.Workload == workload).Template.Spec;
        var volume = Assert.Single(pod.Volumes, v => v.Secret?.SecretName == secretName);
        Assert.Equal(["ca.crt", "tls.crt", "tls.key"], volume.Secret.Items.Select(i => i.Key).Order());
        Assert.DoesNotContain(Overlays.Of<V1Secret>(overlay), s => s.Metadata.Name.StartsWith(secretName, StringComparison.Ordinal));
    }
}
