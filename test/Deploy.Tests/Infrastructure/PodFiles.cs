using k8s.Models;

namespace OrleansControl.Deploy.Tests.Infrastructure;

/// <summary>
/// A container's view of its volumes, materialised under a temporary root as the kubelet would mount them: a Secret
/// the overlay generates with its data, a Secret created at install with a stand-in file per listed item. Its env
/// values become configuration keys with the mount paths rewritten to the temporary ones.
/// </summary>
public sealed class PodFiles : IDisposable
{
    private readonly Dictionary<string, string> _mounts = [];

    /// <param name="committed">Secrets as committed (placeholders) rather than as deploy/make-secrets.sh generates them.</param>
    public PodFiles(string overlay, V1PodSpec pod, V1Container container, bool committed = false)
    {
        var secrets = committed ? Overlays.CommittedOf<V1Secret>(overlay).ToList() : Overlays.Of<V1Secret>(overlay).ToList();
        foreach (var m in container.VolumeMounts)
        {
            var dir = System.IO.Path.Combine(Root, m.Name);
            _mounts[m.MountPath] = dir;
            Directory.CreateDirectory(dir);
            var volume = pod.Volumes.Single(v => v.Name == m.Name);
            if (volume.Secret is { } source && secrets.SingleOrDefault(s => s.Metadata.Name == source.SecretName) is { } secret)
                foreach (var (key, value) in secret.Data) File.WriteAllBytes(System.IO.Path.Combine(dir, key), value);
            else if (volume.Secret is { Items: { } items })
                foreach (var item in items) File.WriteAllText(System.IO.Path.Combine(dir, item.Path), StandIn(item.Path));
        }
        Container = container;
    }

    /// <summary>
    /// What an item created at install holds here: a certificate where the file is one (.crt, .pem: settings check that
    /// it holds a PEM certificate), else a line saying so.
    /// </summary>
    private static string StandIn(string path)
    {
        if (!path.EndsWith(".crt", StringComparison.Ordinal) && !path.EndsWith(".pem", StringComparison.Ordinal))
            return "created at install (deploy/README.md)";
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=created at install", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem();
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("oc-deploy-").FullName;

    public V1Container Container { get; }

    /// <summary>The container's literal env as configuration keys (<c>__</c> to <c>:</c>), optionally below <paramref name="prefix"/>.</summary>
    public Dictionary<string, string?> Settings(string podName, string prefix = "") =>
        Container.Env.Where(e => e.Value is not null && e.Name.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(
            e => e.Name[prefix.Length..].Replace("__", ":", StringComparison.Ordinal),
            e => (string?)_mounts.Aggregate(e.Value.Replace("$(POD_NAME)", podName, StringComparison.Ordinal), (v, m) => v.Replace(m.Key, m.Value, StringComparison.Ordinal)));

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
