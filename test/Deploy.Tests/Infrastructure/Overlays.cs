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

    /// <summary>Skips the calling test (with the reason) when kubectl is missing.</summary>
    public static IReadOnlyList<object> Render(string overlay)
    {
        Skip.If(Kubectl is null, "kubectl not found on PATH: the rendered overlays cannot be checked here");
        lock (Rendered)
        {
            if (Rendered.TryGetValue(overlay, out var cached))
                return cached;
            var output = RunKustomize(Path.Combine(DeployDir, "overlays", overlay));
            return Rendered[overlay] = KubernetesYaml.LoadAllFromString(output);
        }
    }

    public static IEnumerable<T> Of<T>(string overlay) => Render(overlay).OfType<T>();

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

    private static string RunKustomize(string dir)
    {
        var start = new ProcessStartInfo(Kubectl!, ["kustomize", dir])
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
            throw new TimeoutException($"kubectl kustomize {dir} did not finish in 60 s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"kubectl kustomize {dir} failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    private static string? FindKubectl() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "kubectl")).FirstOrDefault(File.Exists);

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
