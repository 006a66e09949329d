using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Deploy.Tests;

/// <summary>
/// The manifests in deploy/ are checked offline: no API server can run here, so they are loaded into the
/// Kubernetes client's typed objects (an unknown field or kind fails the load) and their wiring is asserted.
/// </summary>
public sealed class ManifestTests
{
    private static readonly string DeployDir = Path.Combine(RepoRoot(), "deploy");

    [Fact]
    public void Every_manifest_loads_into_typed_kubernetes_objects()
    {
        var files = ManifestFiles().ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var objects = KubernetesYaml.LoadAllFromString(File.ReadAllText(file));
            Assert.NotEmpty(objects);
            Assert.All(objects, o => Assert.IsAssignableFrom<IKubernetesObject>(o));
        }
    }

    [Fact]
    public void Every_kustomization_resource_exists()
    {
        foreach (var kustomization in Directory.EnumerateFiles(DeployDir, "kustomization.yaml", SearchOption.AllDirectories))
        {
            var dir = Path.GetDirectoryName(kustomization)!;
            foreach (var resource in KustomizationResources(kustomization))
            {
                var path = Path.GetFullPath(Path.Combine(dir, resource));
                Assert.True(File.Exists(path) || Directory.Exists(path), $"{kustomization}: resource '{resource}' does not exist");
            }
        }
    }

    [Fact]
    public void Controller_probes_hit_the_silo_health_endpoints_on_its_probe_port()
    {
        var container = ControllerDeployment().Spec.Template.Spec.Containers.Single(c => c.Name == "controller");
        var ports = container.Ports.ToDictionary(p => p.Name, p => p.ContainerPort);

        Assert.Equal(9090, ports["grpc"]);
        Assert.Equal(8080, ports["rest"]);
        Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
        Assert.All(new[] { container.ReadinessProbe, container.LivenessProbe, container.StartupProbe }, probe =>
        {
            Assert.Equal("probes", probe.HttpGet.Port.Value);
            Assert.Equal("HTTP", probe.HttpGet.Scheme); // the probe port is plain HTTP; gRPC and REST stay TLS-only
        });
        Assert.Equal(ports["probes"].ToString(System.Globalization.CultureInfo.InvariantCulture),
            container.Env.Single(e => e.Name == "Controller__ProbePort").Value);
        Assert.Contains(container.Env, e => e.Name == "Gateway__Tls__CertificatePath");
    }

    [Fact]
    public void Disruption_budget_leaves_room_for_a_rolling_update()
    {
        var deployment = ControllerDeployment();
        var pdb = Load<V1PodDisruptionBudget>("base/controller-pdb.yaml").Single();
        Assert.True(pdb.Spec.MinAvailable.Value is { } min && int.Parse(min) < deployment.Spec.Replicas,
            "minAvailable must be below the replica count or no node can ever be drained");
    }

    [Theory]
    [InlineData("bank")]
    [InlineData("scheme")]
    public void Each_overlay_sets_its_own_role_and_region(string role)
    {
        var literals = ConfigMapLiterals(Path.Combine(DeployDir, "overlays", role, "kustomization.yaml"));
        Assert.Equal(role, literals["Controller__Role"]);
        Assert.StartsWith(role, literals["Controller__Region"]);
        Assert.Equal(literals["Controller__Region"], literals["Gateway__Region"]);
        // Only the bank side asks its peer (the scheme) for server assignments.
        Assert.Equal(role == "bank" ? "true" : null, literals.GetValueOrDefault("Gateway__Peer__OwnsServerPools"));
    }

    [Theory]
    [InlineData("bank")]
    [InlineData("scheme")]
    public void Each_overlay_configuration_passes_the_silo_start_up_validation(string role)
    {
        var literals = ConfigMapLiterals(Path.Combine(DeployDir, "overlays", role, "kustomization.yaml"));
        var env = ControllerDeployment().Spec.Template.Spec.Containers.Single(c => c.Name == "controller").Env
            .Where(e => e.Value is not null).ToDictionary(e => e.Name, e => e.Value);
        var settings = literals.Concat(env).ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => (string?)kv.Value);
        settings["Controller:AdvertisedAddress"] = "10.0.12.34"; // the pod IP, filled in by the downward API
        // The mounted files (Secrets created at install) stand in as empty files under a temporary root.
        using var mounted = new TempFiles();
        foreach (var key in settings.Keys.Where(k => k.EndsWith("Path", StringComparison.Ordinal)).ToList())
            settings[key] = mounted.Create(settings[key]!);

        var options = new ControllerSiloOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(ControllerSiloOptions.Section).Bind(options);
        var result = new ControllerSiloOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal(role, options.Role.ToString(), ignoreCase: true);
        Assert.Equal(ClusteringKind.Redis, options.Clustering);
        Assert.Equal(StorageKind.Redis, options.Storage);
        Assert.True(options.SiloTls.Enabled, "the silo ports carry grain calls: TLS with client certificates");
        Assert.False(options.SiloTls.AllowInsecure);
        Assert.True(options.RedisTls.Enabled, "Redis holds membership and every grain's state: TLS to it");
        Assert.False(options.RedisTls.AllowInsecure);
        Assert.Equal("orleanscontrol-redis", options.RedisTls.Host);
    }

    private sealed class TempFiles : IDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("oc-mounts-").FullName;

        public string Create(string mountedPath)
        {
            var path = Path.Combine(_root, mountedPath.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "created at install (deploy/README.md)");
            return path;
        }

        public void Dispose() => Directory.Delete(_root, recursive: true);
    }

    private static V1Deployment ControllerDeployment() =>
        Load<V1Deployment>("base/controller-deployment.yaml").Single(d => d.Metadata.Name == "orleanscontrol-controller");

    private static IEnumerable<T> Load<T>(string relative) =>
        KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(DeployDir, relative))).OfType<T>();

    private static IEnumerable<string> ManifestFiles() =>
        Directory.EnumerateFiles(DeployDir, "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "kustomization.yaml");

    // Kustomization files are not Kubernetes objects; their few keys we need are read line by line.
    private static IEnumerable<string> KustomizationResources(string file) =>
        ListUnder(file, "resources:").Select(item => item.Trim());

    private static Dictionary<string, string> ConfigMapLiterals(string file) =>
        ListUnder(file, "    literals:").Select(l => l.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim());

    private static IEnumerable<string> ListUnder(string file, string header)
    {
        var lines = File.ReadAllLines(file);
        var start = Array.FindIndex(lines, l => l.TrimEnd() == header);
        if (start < 0)
        {
            yield break;
        }

        var indent = header.Length - header.TrimStart().Length;
        foreach (var line in lines.Skip(start + 1))
        {
            var trimmed = line.TrimStart();
            if (!trimmed.StartsWith("- ", StringComparison.Ordinal) || line.Length - trimmed.Length < indent)
            {
                yield break;
            }

            yield return trimmed[2..];
        }
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansControl.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("OrleansControl.sln not found above " + AppContext.BaseDirectory);
    }
}
