using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Kubernetes;

namespace OrleansControl.Grains.Tests.Kubernetes;

public sealed class ScalingDecisionTests
{
    private static readonly PoolScalingOptions Bounds = new() { Deployment = "d", Min = 2, Max = 4 };

    private static ServerInstance Server(string id, int load = 0, ServerHealth health = ServerHealth.Healthy, bool suspect = false, int capacity = 10) =>
        new(id, $"10.0.0.{id.Length}:5000", "a", capacity, load, health, suspect);

    [Fact]
    public void Fewer_usable_than_the_minimum_scales_up_by_the_shortfall()
    {
        var plan = ScalingDecision.PlanScaleUp(replicas: 2, usable: 0, coming: 0, noTarget: false, Bounds)!;
        Assert.Equal((2, 4), (plan.From, plan.To));
        Assert.Contains("0 usable of minimum 2", plan.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Pods_on_their_way_count_against_the_shortfall()
    {
        Assert.Null(ScalingDecision.PlanScaleUp(replicas: 2, usable: 0, coming: 2, noTarget: false, Bounds));
        Assert.Equal(3, ScalingDecision.PlanScaleUp(replicas: 2, usable: 0, coming: 1, noTarget: false, Bounds)!.To);
    }

    [Fact]
    public void A_failover_without_target_scales_up_by_one()
    {
        var plan = ScalingDecision.PlanScaleUp(replicas: 2, usable: 2, coming: 0, noTarget: true, Bounds)!;
        Assert.Equal((2, 3), (plan.From, plan.To));
        Assert.Null(ScalingDecision.PlanScaleUp(replicas: 2, usable: 2, coming: 0, noTarget: false, Bounds));
    }

    [Fact]
    public void Scale_up_never_goes_above_the_maximum()
    {
        var plan = ScalingDecision.PlanScaleUp(replicas: 4, usable: 1, coming: 0, noTarget: true, Bounds)!;
        Assert.True(plan.AtBound);
        Assert.Equal(4, plan.To);
        Assert.Equal(4, ScalingDecision.PlanScaleUp(replicas: 3, usable: 0, coming: 0, noTarget: false, Bounds)!.To);
    }

    [Fact]
    public void A_deployment_below_the_minimum_is_brought_to_it()
    {
        Assert.Equal(2, ScalingDecision.PlanScaleUp(replicas: 0, usable: 2, coming: 0, noTarget: false, Bounds)!.To);
    }

    [Fact]
    public void Need_is_what_carries_the_load_plus_one_spare_never_below_min()
    {
        Assert.Equal(2, ScalingDecision.Need([Server("s1"), Server("s2"), Server("s3")], Bounds));
        Assert.Equal(3, ScalingDecision.Need([Server("s1", load: 10), Server("s2", load: 5), Server("s3"), Server("s4")], Bounds));
        Assert.Equal(4, ScalingDecision.Need([Server("s1", load: 10), Server("s2", load: 10), Server("s3", load: 10), Server("s4")], Bounds));
    }

    [Fact]
    public void Scale_down_gives_up_an_idle_server_only_when_the_rest_meet_the_need()
    {
        var victim = ScalingDecision.ScaleDownVictim([Server("s1", load: 3), Server("s2"), Server("s3")], Bounds);
        Assert.Equal("s3", victim!.ServerId);
        Assert.Null(ScalingDecision.ScaleDownVictim([Server("s1", load: 3), Server("s2")], Bounds));            // at min
        Assert.Null(ScalingDecision.ScaleDownVictim([Server("s1", 1), Server("s2", 1), Server("s3", 1)], Bounds)); // nobody idle
    }

    [Fact]
    public void Suspect_and_unhealthy_servers_are_not_usable_and_leave_rotation_degraded_ones_stay()
    {
        var servers = new[] { Server("s1", suspect: true), Server("s2", health: ServerHealth.Unhealthy), Server("s3", health: ServerHealth.Degraded), Server("s4") };
        Assert.Equal(1, ScalingDecision.Usable(servers));
        Assert.Equal([false, false, true, true], servers.Select(ScalingDecision.BelongsInRotation));
    }

    [Fact]
    public void A_pod_is_a_server_by_name_or_by_ip()
    {
        var pod = new ServerPod("scheme-server-abc", "10.1.2.3", Ready: true, Terminating: false, InRotation: true);
        Assert.True(ScalingDecision.IsServerOf(Server("scheme-server-abc") with { Address = "elsewhere:1" }, pod));
        Assert.True(ScalingDecision.IsServerOf(Server("s1") with { Address = "10.1.2.3:5000" }, pod));
        Assert.False(ScalingDecision.IsServerOf(Server("s1") with { Address = "10.1.2.30:5000" }, pod));
    }

    [Fact]
    public void A_pod_that_never_got_ready_is_no_longer_counted_as_coming()
    {
        var now = DateTimeOffset.UtcNow;
        var young = new ServerPod("p1", null, false, false, true, now.AddSeconds(-10));
        var old = new ServerPod("p2", null, false, false, true, now.AddMinutes(-10));
        var registered = new ServerPod("s1", null, true, false, true, now.AddMinutes(-10));
        Assert.Equal(1, ScalingDecision.Coming([young, old, registered], [Server("s1")], now, TimeSpan.FromMinutes(3)));
    }
}
