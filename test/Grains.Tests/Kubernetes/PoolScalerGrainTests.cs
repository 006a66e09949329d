using System.Diagnostics;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Kubernetes;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Kubernetes;

/// <summary>The pool's scaler in a silo, acting on the fake API server: what it sends, when, and what it never does.</summary>
[Collection(KubernetesClusterCollection.Name)]
public sealed class PoolScalerGrainTests(KubernetesClusterFixture f)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static string ScalePath(string pool) => $"/apis/apps/v1/namespaces/pools/deployments/{KubernetesClusterFixture.DeploymentOf(pool)}/scale";

    private List<FakeKubernetesApi.RecordedRequest> Patches(string pool) =>
        [.. f.Api.Requests.Where(r => r.Method == "PATCH" && r.Path == ScalePath(pool))];

    [Fact]
    public async Task Below_the_minimum_scales_up_and_waits_for_the_new_pod_ready_and_registered()
    {
        f.Api.AddDeployment("min-servers", 1);
        using var registrar = new CancellationTokenSource();
        var registering = f.RegisterReadyPodsAsync("min", registrar.Token);

        var done = await f.EventAsync("min", e => e is { Action: ScalingAction.ScaleUp, Outcome: ScalingOutcome.Succeeded });
        await registrar.CancelAsync();
        await registering;

        Assert.Equal((1, 2), (done.FromReplicas, done.ToReplicas));
        Assert.Contains("min-servers-", done.Detail, StringComparison.Ordinal);
        var patch = Assert.Single(Patches("min"));
        Assert.Equal("""{"spec":{"replicas":2}}""", patch.Body);
        Assert.StartsWith("application/merge-patch+json", patch.ContentType);
        Assert.Equal(2, f.Api.ReplicasOf("min-servers"));
        // Before the patch it read the scale and the pods; after it, it polled the pods until the new one was Ready.
        var requests = f.Api.RequestsFor("min-servers").ToList();
        var at = requests.IndexOf(patch);
        Assert.Contains(requests[..at], r => r.Method == "GET" && r.Path == ScalePath("min"));
        Assert.Contains(requests[..at], r => r.Method == "GET" && r.Query.Contains("labelSelector=app%3Dmin-servers", StringComparison.Ordinal));
        Assert.Contains(requests[(at + 1)..], r => r.Method == "GET" && r.Path == "/api/v1/namespaces/pools/pods");
        var snapshot = await f.Pool("min").GetSnapshot();
        Assert.Equal(2, snapshot.Servers.Count(ScalingDecision.IsUsable));
    }

    [Fact]
    public async Task A_failover_without_target_scales_up_by_one_and_then_finds_the_new_server()
    {
        var first = f.Api.AddDeployment("failover-servers", 1)[0];
        var pool = f.Pool("failover");
        await pool.AddOrUpdateServer(new ServerDefinition(first, "10.9.0.1:5000", "a", 10));
        await pool.Assign(new AssignmentRequest("c-failover", "bank"));
        using var registrar = new CancellationTokenSource();
        var registering = f.RegisterReadyPodsAsync("failover", registrar.Token);

        var clock = Stopwatch.StartNew();
        Assert.Null(await pool.ReserveFailoverTarget(new FailoverTargetRequest("c-failover", first)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), "the pool answers at once: the scaler is told one-way");

        var done = await f.EventAsync("failover", e => e is { Action: ScalingAction.ScaleUp, Outcome: ScalingOutcome.Succeeded });
        Assert.Equal((1, 2), (done.FromReplicas, done.ToReplicas));
        Assert.Contains("no target", done.Detail, StringComparison.Ordinal);
        var target = await pool.ReserveFailoverTarget(new FailoverTargetRequest("c-failover", first));
        Assert.NotNull(target);
        Assert.NotEqual(first, target.ServerId);
        Assert.Single(Patches("failover"));
        await registrar.CancelAsync();
        await registering;
    }

    [Fact]
    public async Task At_the_maximum_nothing_is_patched_and_an_event_says_so()
    {
        var only = f.Api.AddDeployment("full-servers", 1)[0];
        var pool = f.Pool("full");
        await pool.AddOrUpdateServer(new ServerDefinition(only, "10.9.1.1:5000", "a", 10));
        await pool.Assign(new AssignmentRequest("c-full", "bank"));

        Assert.Null(await pool.ReserveFailoverTarget(new FailoverTargetRequest("c-full", only)));
        var bound = await f.EventAsync("full", e => e.Outcome == ScalingOutcome.AtBound);
        Assert.Null(await pool.ReserveFailoverTarget(new FailoverTargetRequest("c-full", only)));
        await Task.Delay(500);

        Assert.Equal(ScalingAction.ScaleUp, bound.Action);
        Assert.Contains("maximum 1", bound.Detail, StringComparison.Ordinal);
        Assert.Empty(Patches("full"));
        Assert.Equal(1, f.Api.ReplicasOf("full-servers"));
        Assert.Single((await f.Events("full")).Where(e => e.Outcome == ScalingOutcome.AtBound)); // reported once, not per signal
    }

    [Fact]
    public async Task Signals_while_a_scale_up_waits_never_start_a_second_one()
    {
        var first = f.Api.AddDeployment("busy-servers", 1)[0];
        f.Api.ReadyAfterOf["busy-servers"] = TimeSpan.FromSeconds(6); // longer than the loop below, even on a loaded machine
        var pool = f.Pool("busy");
        await pool.AddOrUpdateServer(new ServerDefinition(first, "10.9.2.1:5000", "a", 10));
        await pool.Assign(new AssignmentRequest("c-busy", "bank"));
        using var registrar = new CancellationTokenSource();
        var registering = f.RegisterReadyPodsAsync("busy", registrar.Token);

        for (var i = 0; i < 10; i++)
        {
            Assert.Null(await pool.ReserveFailoverTarget(new FailoverTargetRequest("c-busy", first)));
            await pool.AddOrUpdateServer(new ServerDefinition(first, "10.9.2.1:5000", "a", 10 + i)); // a topology change
            await Task.Delay(100);
        }
        Assert.Single(Patches("busy"));
        await f.EventAsync("busy", e => e is { Action: ScalingAction.ScaleUp, Outcome: ScalingOutcome.Succeeded });
        await Task.Delay(1000); // several evaluations later: the signals sent during the wait did not start another
        await registrar.CancelAsync();
        await registering;

        Assert.Single(Patches("busy"));
        Assert.Equal(2, f.Api.ReplicasOf("busy-servers"));
    }

    [Fact]
    public async Task A_failed_server_leaves_rotation_and_returns_when_healthy()
    {
        var pods = f.Api.AddDeployment("rotation-servers", 2);
        var pool = f.Pool("rotation");
        foreach (var pod in pods)
            await pool.AddOrUpdateServer(new ServerDefinition(pod, $"10.9.3.{pods.ToList().IndexOf(pod)}:5000", "a", 10));

        await pool.SetServerHealth(pods[0], ServerHealth.Unhealthy);
        var outEvent = await f.EventAsync("rotation", e => e.Action == ScalingAction.RotateOut);
        await pool.SetServerHealth(pods[0], ServerHealth.Healthy);
        var inEvent = await f.EventAsync("rotation", e => e.Action == ScalingAction.RotateIn);

        Assert.Equal((ScalingOutcome.Succeeded, pods[0]), (outEvent.Outcome, outEvent.Target));
        Assert.Equal((ScalingOutcome.Succeeded, pods[0]), (inEvent.Outcome, inEvent.Target));
        var patches = f.Api.Requests.Where(r => r.Method == "PATCH" && r.Path == $"/api/v1/namespaces/pools/pods/{pods[0]}").ToList();
        Assert.Equal(
            ["""{"metadata":{"labels":{"orleanscontrol.io/rotation":"out"}}}""", """{"metadata":{"labels":{"orleanscontrol.io/rotation":"in"}}}"""],
            patches.Select(p => p.Body));
        Assert.All(patches, p => Assert.StartsWith("application/merge-patch+json", p.ContentType));
        Assert.Equal("in", f.Api.PodsOf("rotation-servers")[0].Labels["orleanscontrol.io/rotation"]);
        Assert.DoesNotContain(f.Api.Requests, r => r.Method == "PATCH" && r.Path.EndsWith(pods[1], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_forbidden_scale_is_an_event_and_a_later_change_tries_again()
    {
        var first = f.Api.AddDeployment("denied-servers", 1)[0];
        f.Api.Fail("PATCH", "/denied-servers/scale$", 403);
        var pool = f.Pool("denied");
        await pool.AddOrUpdateServer(new ServerDefinition(first, "10.9.4.1:5000", "a", 10));
        await pool.Assign(new AssignmentRequest("c-denied", "bank"));
        using var registrar = new CancellationTokenSource();
        var registering = f.RegisterReadyPodsAsync("denied", registrar.Token);

        Assert.Null(await pool.ReserveFailoverTarget(new FailoverTargetRequest("c-denied", first)));
        // (On a loaded machine a read of the scale can time out first: that is another failure event; the 403 is the one here.)
        var failed = await f.EventAsync("denied", e => e.Outcome == ScalingOutcome.Failed && e.Detail.Contains("403", StringComparison.Ordinal));
        Assert.Contains("403", failed.Detail, StringComparison.Ordinal);
        Assert.Single(Patches("denied")); // 403 is not retried

        await Task.Delay(400); // past the backoff after a failure: the connection's retry asks again
        Assert.Null(await pool.ReserveFailoverTarget(new FailoverTargetRequest("c-denied", first)));
        await f.EventAsync("denied", e => e is { Action: ScalingAction.ScaleUp, Outcome: ScalingOutcome.Succeeded });
        Assert.Equal(2, Patches("denied").Count);
        await registrar.CancelAsync();
        await registering;
    }

    [Fact]
    public async Task A_hanging_api_server_never_holds_up_the_pool()
    {
        var first = f.Api.AddDeployment("slow-servers", 1)[0];
        f.Api.Fail("GET", "/slow-servers/scale$", 200, times: 20, delay: TimeSpan.FromSeconds(30));
        var pool = f.Pool("slow");
        await pool.AddOrUpdateServer(new ServerDefinition(first, "10.9.5.1:5000", "a", 10));
        await pool.Assign(new AssignmentRequest("c-slow", "bank"));

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
            Assert.Null(await pool.ReserveFailoverTarget(new FailoverTargetRequest("c-slow", first)));
        await pool.GetSnapshot();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"pool calls took {clock.Elapsed}");

        var failed = await f.EventAsync("slow", e => e is { Action: ScalingAction.ScaleUp, Outcome: ScalingOutcome.Failed });
        Assert.Contains("timed out", failed.Detail, StringComparison.Ordinal);
        Assert.Empty(Patches("slow"));
    }

    [Fact]
    public async Task Over_its_need_for_the_delay_it_scales_down_one_idle_server_and_never_below_the_need()
    {
        var pods = f.Api.AddDeployment("idle-servers", 3);
        var pool = f.Pool("idle");
        for (var i = 0; i < pods.Count; i++)
            await pool.AddOrUpdateServer(new ServerDefinition(pods[i], $"10.9.6.{i}:5000", "a", 10));

        var down = await f.EventAsync("idle", e => e is { Action: ScalingAction.ScaleDown, Outcome: ScalingOutcome.Succeeded });
        await Task.Delay(2500); // more than the delay again: a second scale-down would have happened by now

        Assert.Equal((3, 2), (down.FromReplicas, down.ToReplicas));
        Assert.Contains(pods[2], down.Detail, StringComparison.Ordinal);
        var requests = f.Api.Requests.Where(r => r.Method == "PATCH").ToList();
        var mark = Assert.Single(requests, r => r.Path == $"/api/v1/namespaces/pools/pods/{pods[2]}");
        Assert.Equal("""{"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"-1000"}}}""", mark.Body);
        var scale = Assert.Single(Patches("idle"));
        Assert.Equal("""{"spec":{"replicas":2}}""", scale.Body);
        Assert.True(requests.IndexOf(mark) < requests.IndexOf(scale), "the pod to remove is marked before the scale-down");
        Assert.Equal([pods[0], pods[1]], f.Api.PodsOf("idle-servers").Select(p => p.Name));
        Assert.Equal([pods[0], pods[1]], (await pool.GetSnapshot()).Servers.Select(s => s.ServerId));
        Assert.Single((await f.Events("idle")).Where(e => e.Action == ScalingAction.ScaleDown && e.Outcome == ScalingOutcome.Succeeded));
    }
}

[Collection(DryRunClusterCollection.Name)]
public sealed class DryRunTests(DryRunClusterFixture f)
{
    [Fact]
    public async Task Dry_run_logs_each_action_and_sends_nothing()
    {
        var pods = f.Api.AddDeployment("dry-servers", 1);
        var pool = f.Pool("dry");
        await pool.AddOrUpdateServer(new ServerDefinition(pods[0], "10.9.7.1:5000", "a", 10));

        var up = await f.EventAsync("dry", e => e.Action == ScalingAction.ScaleUp);
        await pool.SetServerHealth(pods[0], ServerHealth.Unhealthy);
        var rotation = await f.EventAsync("dry", e => e.Action == ScalingAction.RotateOut);
        await Task.Delay(300);

        Assert.Equal(ScalingOutcome.DryRun, up.Outcome);
        Assert.Equal(2, up.ToReplicas);
        Assert.Equal(ScalingOutcome.DryRun, rotation.Outcome);
        Assert.Empty(f.Api.Requests);
        Assert.Contains(f.Logs.Lines, l => l.Contains("would send patch apps/deployments/scale as PATCH /apis/apps/v1/namespaces/pools/deployments/dry-servers/scale {\"spec\":{\"replicas\":2}}", StringComparison.Ordinal));
        Assert.Contains(f.Logs.Lines, l => l.Contains($"PATCH /api/v1/namespaces/pools/pods/{pods[0]} {{\"metadata\":{{\"labels\":{{\"orleanscontrol.io/rotation\":\"out\"}}}}}}", StringComparison.Ordinal));
        Assert.Equal(1, f.Api.ReplicasOf("dry-servers"));
    }
}
