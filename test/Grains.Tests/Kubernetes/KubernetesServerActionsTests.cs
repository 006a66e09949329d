using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansControl.Grains.Kubernetes;

namespace OrleansControl.Grains.Tests.Kubernetes;

/// <summary>The requests the actions send, byte for byte, and what each API error does (against <see cref="FakeKubernetesApi"/>).</summary>
public sealed class KubernetesServerActionsTests : IAsyncLifetime
{
    private const string Deployment = "scheme-server";
    private FakeKubernetesApi _api = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _dir = Directory.CreateTempSubdirectory("oc-k8s-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private KubernetesOptions Options(int maxRetries = 3, TimeSpan? requestTimeout = null) => new()
    {
        Enabled = true,
        Connection = KubernetesConnection.Kubeconfig,
        KubeconfigPath = _api.WriteKubeconfig(_dir),
        Namespace = FakeKubernetesApi.Namespace,
        Pools = { ["scheme"] = new PoolScalingOptions { Deployment = Deployment, Min = 1, Max = 3 } },
        MaxRetries = maxRetries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(5),
    };

    private static KubernetesServerActions Actions(KubernetesOptions options)
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var client = new k8s.Kubernetes(KubernetesHosting.ClientConfiguration(options));
        return new KubernetesServerActions(client, options, NullLogger<KubernetesServerActions>.Instance, new KubernetesMetrics(meters), TimeProvider.System);
    }

    [Fact]
    public async Task Scale_is_a_merge_patch_of_spec_replicas_on_the_scale_subresource()
    {
        _api.AddDeployment(Deployment, 1);
        var actions = Actions(Options());

        var before = await actions.ReadScaleAsync(Deployment, CancellationToken.None);
        await actions.ScaleAsync(Deployment, 3, CancellationToken.None);

        Assert.Equal(new DeploymentScale(Deployment, 1, $"app={Deployment}"), before);
        Assert.Equal(3, _api.ReplicasOf(Deployment));
        var (read, patch) = (_api.Requests[0], _api.Requests[1]);
        Assert.Equal(("GET", "/apis/apps/v1/namespaces/pools/deployments/scheme-server/scale"), (read.Method, read.Path));
        Assert.Equal(("PATCH", "/apis/apps/v1/namespaces/pools/deployments/scheme-server/scale"), (patch.Method, patch.Path));
        Assert.Equal("?fieldManager=orleanscontrol", patch.Query);
        Assert.StartsWith("application/merge-patch+json", patch.ContentType);
        Assert.Equal("""{"spec":{"replicas":3}}""", patch.Body);
        Assert.Equal(2, _api.Requests.Count);
    }

    [Fact]
    public async Task Pods_are_listed_by_the_scale_selector_with_readiness_ip_and_rotation()
    {
        var names = _api.AddDeployment(Deployment, 2);
        var actions = Actions(Options());

        var pods = await actions.ListPodsAsync($"app={Deployment}", CancellationToken.None);

        var list = Assert.Single(_api.Requests);
        Assert.Equal(("GET", "/api/v1/namespaces/pools/pods", "?labelSelector=app%3Dscheme-server&watch=false"), (list.Method, list.Path, list.Query));
        Assert.Equal(names, pods.Select(p => p.Name));
        Assert.All(pods, p => Assert.True(p.Ready && p.InRotation && !p.Terminating && p.PodIp!.StartsWith("10.1.0.", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Rotation_and_removal_mark_are_merge_patches_of_the_pod_metadata()
    {
        var pod = _api.AddDeployment(Deployment, 1)[0];
        var actions = Actions(Options());

        await actions.SetRotationAsync(pod, inRotation: false, CancellationToken.None);
        await actions.SetRotationAsync(pod, inRotation: true, CancellationToken.None);
        await actions.MarkForRemovalAsync(pod, CancellationToken.None);

        Assert.All(_api.Requests, r =>
        {
            Assert.Equal(("PATCH", $"/api/v1/namespaces/pools/pods/{pod}", "?fieldManager=orleanscontrol"), (r.Method, r.Path, r.Query));
            Assert.StartsWith("application/merge-patch+json", r.ContentType);
        });
        Assert.Equal(
            [
                """{"metadata":{"labels":{"orleanscontrol.io/rotation":"out"}}}""",
                """{"metadata":{"labels":{"orleanscontrol.io/rotation":"in"}}}""",
                """{"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"-1000"}}}""",
            ],
            _api.Requests.Select(r => r.Body));
        Assert.Equal("in", _api.PodsOf(Deployment)[0].Labels["orleanscontrol.io/rotation"]);
    }

    [Theory]
    [InlineData(403)]
    [InlineData(404)]
    public async Task Forbidden_and_not_found_are_not_retried(int status)
    {
        _api.AddDeployment(Deployment, 1);
        _api.Fail("PATCH", "/scale$", status);
        var actions = Actions(Options());

        var error = await Assert.ThrowsAsync<KubernetesActionException>(() => actions.ScaleAsync(Deployment, 2, CancellationToken.None));

        Assert.Equal((HttpStatusCode)status, error.Status);
        Assert.Equal(1, error.Attempts);
        Assert.Equal(KubernetesApiCalls.PatchScale, error.Call);
        Assert.Contains("injected fault", error.Message, StringComparison.Ordinal);
        Assert.Single(_api.Requests);
        Assert.Equal(1, _api.ReplicasOf(Deployment));
    }

    [Theory]
    [InlineData(409)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Conflicts_and_server_errors_are_retried_until_the_patch_lands(int status)
    {
        _api.AddDeployment(Deployment, 1);
        _api.Fail("PATCH", "/scale$", status, times: 2);
        var actions = Actions(Options());

        await actions.ScaleAsync(Deployment, 2, CancellationToken.None);

        Assert.Equal(3, _api.Requests.Count);
        Assert.All(_api.Requests, r => Assert.Equal("""{"spec":{"replicas":2}}""", r.Body));
        Assert.Equal(2, _api.ReplicasOf(Deployment));
    }

    [Fact]
    public async Task Too_many_requests_waits_for_its_Retry_After()
    {
        _api.AddDeployment(Deployment, 1);
        _api.Fail("GET", "/scale$", 429, retryAfter: TimeSpan.FromSeconds(1));
        var actions = Actions(Options());

        var scale = await actions.ReadScaleAsync(Deployment, CancellationToken.None);

        Assert.Equal(1, scale.Replicas);
        var (first, second) = (_api.Requests[0], _api.Requests[1]);
        Assert.True(second.At - first.At >= TimeSpan.FromMilliseconds(950), $"retried after {(second.At - first.At).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_hanging_request_times_out_and_is_retried_then_reported()
    {
        _api.AddDeployment(Deployment, 1);
        _api.Fail("GET", "/scale$", 200, times: 3, delay: TimeSpan.FromSeconds(10));
        var actions = Actions(Options(maxRetries: 2, requestTimeout: TimeSpan.FromMilliseconds(300)));
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<KubernetesActionException>(() => actions.ReadScaleAsync(Deployment, CancellationToken.None));

        Assert.Null(error.Status);
        Assert.Equal(3, error.Attempts);
        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Retries_end_after_the_configured_attempts()
    {
        _api.AddDeployment(Deployment, 1);
        _api.Fail("PATCH", "/scale$", 409, times: 10);
        var actions = Actions(Options(maxRetries: 2));

        var error = await Assert.ThrowsAsync<KubernetesActionException>(() => actions.ScaleAsync(Deployment, 2, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Conflict, error.Status);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(3, _api.Requests.Count);
    }

    [Fact]
    public async Task Every_request_sent_is_in_the_table_of_calls()
    {
        var pod = _api.AddDeployment(Deployment, 1)[0];
        var actions = Actions(Options());
        var scale = await actions.ReadScaleAsync(Deployment, CancellationToken.None);
        await actions.ListPodsAsync(scale.Selector, CancellationToken.None);
        await actions.ScaleAsync(Deployment, 2, CancellationToken.None);
        await actions.SetRotationAsync(pod, false, CancellationToken.None);
        await actions.MarkForRemovalAsync(pod, CancellationToken.None);

        var sent = _api.Requests.Select(ApiCallOf).Distinct().ToList();

        Assert.Equal(KubernetesApiCalls.All.OrderBy(c => c.ToString()), sent.OrderBy(c => c.ToString()));
    }

    /// <summary>How RBAC names a request (verb, API group, resource[/subresource]), from its method and path.</summary>
    internal static KubernetesApiCall ApiCallOf(FakeKubernetesApi.RecordedRequest r)
    {
        var parts = r.Path.Trim('/').Split('/');
        var (group, rest) = parts[0] == "api" ? ("", parts[2..]) : (parts[1], parts[3..]);
        // rest: namespaces/{ns}/{resource}[/{name}[/{subresource}]]
        var resource = rest.Length > 4 ? $"{rest[2]}/{rest[4]}" : rest[2];
        var named = rest.Length > 3;
        var verb = (r.Method, named) switch
        {
            ("GET", true) => "get",
            ("GET", false) => "list",
            ("PATCH", _) => "patch",
            ("PUT", _) => "update",
            ("POST", _) => "create",
            ("DELETE", _) => "delete",
            _ => r.Method.ToLowerInvariant(),
        };
        return new KubernetesApiCall(verb, group, resource, ByName: resource.StartsWith("deployments", StringComparison.Ordinal));
    }
}
