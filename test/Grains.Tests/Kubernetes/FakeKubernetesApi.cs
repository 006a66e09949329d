using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OrleansControl.Grains.Tests.Kubernetes;

/// <summary>
/// A Kubernetes API server stand-in on a loopback Kestrel port: it answers the real paths KubernetesClient sends
/// (scale subresource, pods list, pod patch) with the real JSON shapes, keeps Deployments and pods in memory (a scale
/// patch creates or removes pods, which turn Ready after <see cref="ReadyAfter"/>), records every request exactly as
/// received and can be told to fail requests (status, Retry-After, delay).
/// </summary>
public sealed partial class FakeKubernetesApi : IAsyncDisposable
{
    public const string Namespace = "pools";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<Fault> _faults = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _replicas = new(StringComparer.Ordinal);
    private readonly List<FakePod> _pods = [];
    private int _podCounter;

    private FakeKubernetesApi(WebApplication app) => _app = app;

    public sealed record RecordedRequest(string Method, string Path, string Query, string? ContentType, string Body, DateTimeOffset At)
    {
        public override string ToString() => $"{Method} {Path}{Query}";
    }

    public sealed record Fault(string Method, Regex Path, int Status, TimeSpan? RetryAfter, TimeSpan Delay);

    public sealed class FakePod
    {
        public required string Name { get; init; }
        public required string Deployment { get; init; }
        public required string Ip { get; init; }
        public DateTimeOffset ReadyAt { get; set; }
        public bool Terminating { get; set; }
        public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Annotations { get; } = new(StringComparer.Ordinal);
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>How long a pod a scale-up creates takes to become Ready.</summary>
    public TimeSpan ReadyAfter { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Per Deployment, overrides <see cref="ReadyAfter"/>.</summary>
    public ConcurrentDictionary<string, TimeSpan> ReadyAfterOf { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var api = new FakeKubernetesApi(app);
        app.Run(api.HandleAsync);
        await app.StartAsync();
        api.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return api;
    }

    /// <summary>A kubeconfig pointing at this server, as a Secret would hold it for a remote cluster.</summary>
    public string WriteKubeconfig(string directory)
    {
        var path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {BaseAddress.ToString().TrimEnd('/')}
            users:
            - name: controller
              user:
                token: test-token
            contexts:
            - name: fake
              context:
                cluster: fake
                user: controller
                namespace: {Namespace}
            current-context: fake
            """);
        return path;
    }

    /// <summary>A Deployment with <paramref name="replicas"/> pods, Ready now; returns their names.</summary>
    public IReadOnlyList<string> AddDeployment(string name, int replicas)
    {
        lock (_gate)
        {
            _replicas[name] = replicas;
            return [.. Enumerable.Range(0, replicas).Select(_ => AddPod(name, DateTimeOffset.UtcNow).Name)];
        }
    }

    public int ReplicasOf(string deployment)
    {
        lock (_gate)
            return _replicas[deployment];
    }

    public bool IsReady(FakePod pod) => DateTimeOffset.UtcNow >= pod.ReadyAt && !pod.Terminating;

    public IReadOnlyList<FakePod> PodsOf(string deployment)
    {
        lock (_gate)
            return [.. _pods.Where(p => p.Deployment == deployment)];
    }

    public IReadOnlyList<RecordedRequest> RequestsFor(string deploymentOrPod) =>
        [.. _requests.Where(r => r.Path.Contains("/" + deploymentOrPod, StringComparison.Ordinal) || r.Query.Contains(deploymentOrPod, StringComparison.Ordinal))];

    /// <summary>The next <paramref name="times"/> requests matching method and path fail with this status (or hang for the delay).</summary>
    public void Fail(string method, string pathPattern, int status, int times = 1, TimeSpan? retryAfter = null, TimeSpan? delay = null)
    {
        for (var i = 0; i < times; i++)
            _faults.Enqueue(new Fault(method, new Regex(pathPattern), status, retryAfter, delay ?? TimeSpan.Zero));
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await new StreamReader(request.Body).ReadToEndAsync(context.RequestAborted);
        var path = request.Path.Value ?? "";
        _requests.Enqueue(new RecordedRequest(request.Method, path, request.QueryString.Value ?? "", request.ContentType, body, DateTimeOffset.UtcNow));

        if (TakeFault(request.Method, path) is { } fault)
        {
            if (fault.Delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(fault.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            if (fault.RetryAfter is { } after)
                context.Response.Headers.RetryAfter = ((int)after.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await StatusAsync(context, fault.Status, "injected fault");
            return;
        }

        var scale = ScalePath().Match(path);
        var pods = PodsPath().Match(path);
        var pod = PodPath().Match(path);
        if (scale.Success && scale.Groups["ns"].Value == Namespace)
            await ScaleAsync(context, scale.Groups["name"].Value, body);
        else if (pods.Success && request.Method == "GET" && pods.Groups["ns"].Value == Namespace)
            await JsonAsync(context, ListPods(request.Query["labelSelector"].ToString()));
        else if (pod.Success && request.Method == "PATCH" && pod.Groups["ns"].Value == Namespace)
            await PatchPodAsync(context, pod.Groups["name"].Value, body);
        else
            await StatusAsync(context, 404, $"the server could not find the requested resource ({request.Method} {path})");
    }

    private Fault? TakeFault(string method, string path)
    {
        lock (_gate)
        {
            var pending = _faults.ToList();
            var match = pending.FirstOrDefault(f => f.Method == method && f.Path.IsMatch(path));
            if (match is null)
                return null;
            pending.Remove(match);
            _faults.Clear();
            foreach (var f in pending) _faults.Enqueue(f);
            return match;
        }
    }

    private async Task ScaleAsync(HttpContext context, string name, string body)
    {
        V1Scale result;
        lock (_gate)
        {
            if (!_replicas.TryGetValue(name, out var replicas))
            {
                result = null!;
            }
            else
            {
                if (context.Request.Method == "PATCH")
                {
                    replicas = JsonNode.Parse(body)!["spec"]!["replicas"]!.GetValue<int>();
                    Resize(name, replicas);
                }
                result = new V1Scale
                {
                    ApiVersion = "autoscaling/v1",
                    Kind = "Scale",
                    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
                    Spec = new V1ScaleSpec { Replicas = replicas },
                    Status = new V1ScaleStatus { Replicas = replicas, Selector = $"app={name}" },
                };
            }
        }
        if (result is null)
            await StatusAsync(context, 404, $"deployments.apps \"{name}\" not found");
        else
            await JsonAsync(context, result);
    }

    private void Resize(string deployment, int replicas)
    {
        _replicas[deployment] = replicas;
        var live = _pods.Where(p => p.Deployment == deployment && !p.Terminating).ToList();
        for (var i = live.Count; i < replicas; i++)
            AddPod(deployment, DateTimeOffset.UtcNow + ReadyAfterOf.GetValueOrDefault(deployment, ReadyAfter));
        // The ReplicaSet removes the lowest deletion cost first.
        foreach (var gone in live.OrderBy(p => int.Parse(p.Annotations.GetValueOrDefault("controller.kubernetes.io/pod-deletion-cost", "0"),
                     System.Globalization.CultureInfo.InvariantCulture)).Take(Math.Max(0, live.Count - replicas)))
            _pods.Remove(gone);
    }

    private FakePod AddPod(string deployment, DateTimeOffset readyAt)
    {
        var n = ++_podCounter;
        var pod = new FakePod { Name = $"{deployment}-{n:D3}", Deployment = deployment, Ip = $"10.1.0.{n}", ReadyAt = readyAt };
        pod.Labels["app"] = deployment;
        pod.Labels["orleanscontrol.io/rotation"] = "in";
        _pods.Add(pod);
        return pod;
    }

    private V1PodList ListPods(string selector)
    {
        var (key, value) = selector.Split('=', 2) is [var k, var v] ? (k, v) : ("", "");
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            return new V1PodList
            {
                ApiVersion = "v1",
                Kind = "PodList",
                Metadata = new V1ListMeta(),
                Items = [.. _pods.Where(p => p.Labels.GetValueOrDefault(key) == value).Select(p => new V1Pod
                {
                    Metadata = new V1ObjectMeta
                    {
                        Name = p.Name,
                        NamespaceProperty = Namespace,
                        Labels = new Dictionary<string, string>(p.Labels),
                        Annotations = new Dictionary<string, string>(p.Annotations),
                        CreationTimestamp = DateTime.UtcNow.AddSeconds(-1),
                        DeletionTimestamp = p.Terminating ? DateTime.UtcNow : null,
                    },
                    Status = new V1PodStatus
                    {
                        Phase = "Running",
                        PodIP = p.Ip,
                        Conditions = [new V1PodCondition { Type = "Ready", Status = now >= p.ReadyAt ? "True" : "False" }],
                    },
                })],
            };
        }
    }

    private async Task PatchPodAsync(HttpContext context, string name, string body)
    {
        V1Pod? result = null;
        lock (_gate)
        {
            if (_pods.FirstOrDefault(p => p.Name == name) is { } pod)
            {
                var metadata = JsonNode.Parse(body)!["metadata"]!;
                foreach (var (k, v) in metadata["labels"]?.AsObject() ?? [])
                    pod.Labels[k] = v!.GetValue<string>();
                foreach (var (k, v) in metadata["annotations"]?.AsObject() ?? [])
                    pod.Annotations[k] = v!.GetValue<string>();
                result = new V1Pod { ApiVersion = "v1", Kind = "Pod", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace, Labels = pod.Labels } };
            }
        }
        if (result is null)
            await StatusAsync(context, 404, $"pods \"{name}\" not found");
        else
            await JsonAsync(context, result);
    }

    private static async Task JsonAsync(HttpContext context, object value)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(KubernetesJson.Serialize(value));
    }

    private static Task StatusAsync(HttpContext context, int code, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        var reason = code switch { 403 => "Forbidden", 404 => "NotFound", 409 => "Conflict", 429 => "TooManyRequests", _ => "InternalError" };
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        return context.Response.WriteAsync(status.ToJsonString());
    }

    [GeneratedRegex("^/apis/apps/v1/namespaces/(?<ns>[^/]+)/deployments/(?<name>[^/]+)/scale$")]
    private static partial Regex ScalePath();

    [GeneratedRegex("^/api/v1/namespaces/(?<ns>[^/]+)/pods$")]
    private static partial Regex PodsPath();

    [GeneratedRegex("^/api/v1/namespaces/(?<ns>[^/]+)/pods/(?<name>[^/]+)$")]
    private static partial Regex PodPath();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
