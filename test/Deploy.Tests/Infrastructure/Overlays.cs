using System.Diagnostics;
using k8s;
using k8s.Models;

namespace OrleansControl.Deploy.Tests.Infrastructure;

/// <summary>
/// The overlays as Kubernetes would receive them: rendered by <c>kubectl kustomize</c> (kubectl is on these
/// machines; where it is not, the tests that need it are skipped with the reason) and loaded into typed objects.
/// </summary>
public static class Overlays
{
    public static readonly string RepoRoot = FindRepoRoot();

    public static readonly string DeployDir = Path.Combine(RepoRoot, "deploy");

    public static readonly string[] Names = ["bank", "scheme"];

    private static readonly Dictionary<string, IReadOnlyList<object>> Rendered = [];

    public static string? Kubectl { get; } = FindKubectl();

    /// <summary>
    /// The overlay as an operator applies it: rendered from a copy of deploy/ whose secrets deploy/make-secrets.sh
    /// generated (once per test run). Skips the calling test (with the reason) when kubectl, sh or openssl is missing.
    /// </summary>
    public static IReadOnlyList<object> Render(string overlay) => RenderFrom(GeneratedDir.Value, overlay);

    /// <summary>The overlay as committed, with its REPLACE-ME placeholder secrets.</summary>
    public static IReadOnlyList<object> RenderCommitted(string overlay) => RenderFrom(DeployDir, overlay);

    public static IEnumerable<T> Of<T>(string overlay) => Render(overlay).OfType<T>();

    public static IEnumerable<T> CommittedOf<T>(string overlay) => RenderCommitted(overlay).OfType<T>();

    /// <summary>Runs deploy/make-secrets.sh into a fresh directory and returns it (the copy of deploy/ with secrets).</summary>
    public static string GenerateSecrets()
    {
        Skip.If(FindOnPath("sh") is null || FindOnPath("openssl") is null || FindOnPath("sha256sum") is null,
            "sh, openssl or sha256sum not found on PATH: deploy/make-secrets.sh cannot run here");
        var root = Directory.CreateTempSubdirectory("oc-deploy-secrets-").FullName;
        var dir = Path.Combine(root, "deploy");
        Run("sh", [Path.Combine(DeployDir, "make-secrets.sh"), dir]);
        return dir;
    }

    private static readonly Lazy<string> GeneratedDir = new(() =>
    {
        var dir = GenerateSecrets();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        return dir;
    });

    private static IReadOnlyList<object> RenderFrom(string deployDir, string overlay)
    {
        Skip.If(Kubectl is null, "kubectl not found on PATH: the rendered overlays cannot be checked here");
        var key = $"{deployDir}|{overlay}";
        lock (Rendered)
        {
            if (Rendered.TryGetValue(key, out var cached))
                return cached;
            var output = RunKustomize(Path.Combine(deployDir, "overlays", overlay));
            return Rendered[key] = KubernetesYaml.LoadAllFromString(output);
        }
    }

    public static IReadOnlyDictionary<string, string> ControllerConfig(string overlay) =>
        Of<V1ConfigMap>(overlay).Single(c => c.Metadata.Name.StartsWith("orleanscontrol-controller", StringComparison.Ordinal)).Data.AsReadOnly();

    /// <summary>Every pod template of the overlay with its workload's name.</summary>
    public static IEnumerable<(string Workload, V1PodTemplateSpec Template)> PodTemplates(string overlay) =>
        Render(overlay).Select(o => o switch
        {
            V1Deployment d => (d.Metadata.Name, d.Spec.Template),
            V1StatefulSet s => (s.Metadata.Name, s.Spec.Template),
            V1DaemonSet ds => (ds.Metadata.Name, ds.Spec.Template),
            V1Job j => (j.Metadata.Name, j.Spec.Template),
            _ => default,
        }).Where(t => t.Item2 is not null)!;

    public static IEnumerable<(string Workload, V1Container Container, V1PodSpec Pod)> Containers(string overlay) =>
        PodTemplates(overlay).SelectMany(t => t.Template.Spec.Containers.Concat(t.Template.Spec.InitContainers ?? [])
            .Select(c => (t.Workload, c, t.Template.Spec)));

    private static string RunKustomize(string dir) => Run(Kubectl!, ["kustomize", dir]);

    private static string Run(string file, string[] args)
    {
        var start = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 60 s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    private static string? FindKubectl() => FindOnPath("kubectl");

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansControl.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("OrleansControl.sln not found above " + AppContext.BaseDirectory);
    }
}
