using k8s.Models;
using OrleansControl.Deploy.Tests.Infrastructure;
using OrleansControl.Grains.Kubernetes;

namespace OrleansControl.Deploy.Tests;

/// <summary>
/// Least privilege, proven against the code: the Role grants exactly the requests of
/// <see cref="KubernetesApiCalls.All"/> (the table every Kubernetes action sends through), restricted by
/// resourceNames to the Deployments the overlay configures wherever Kubernetes allows it, and nothing else.
/// </summary>
public sealed class RbacTests
{
    [SkippableFact]
    public void The_scheme_role_grants_exactly_the_calls_the_kubernetes_actions_make()
    {
        var config = Overlays.ControllerConfig("scheme");
        Assert.Equal("true", config["Controller__Kubernetes__Enabled"]);
        var deployments = config.Where(kv => kv.Key.StartsWith("Controller__Kubernetes__Pools__", StringComparison.Ordinal) && kv.Key.EndsWith("__Deployment", StringComparison.Ordinal))
            .Select(kv => kv.Value).Order().ToList();
        Assert.NotEmpty(deployments);
        var expected = KubernetesApiCalls.All
            .Select(c => Grant(c.ApiGroup, c.Resource, c.Verb, c.ByName ? deployments : []))
            .Order().ToList();

        var role = Assert.Single(Overlays.Of<V1Role>("scheme"));
        var granted = role.Rules.SelectMany(r =>
            r.ApiGroups.SelectMany(g => r.Resources.SelectMany(res => r.Verbs.Select(v => Grant(g, res, v, r.ResourceNames ?? [])))))
            .Order().ToList();

        Assert.Equal(expected, granted);
        Assert.All(role.Rules, r => Assert.DoesNotContain("*", r.Verbs.Concat(r.Resources).Concat(r.ApiGroups)));
        Assert.Empty(Overlays.Of<V1ClusterRole>("scheme"));
        Assert.Empty(Overlays.Of<V1ClusterRoleBinding>("scheme"));
    }

    [SkippableFact]
    public void The_configured_pool_deployments_exist_in_the_scheme_overlay()
    {
        var config = Overlays.ControllerConfig("scheme");
        var names = Overlays.Of<V1Deployment>("scheme").Select(d => d.Metadata.Name).ToHashSet();
        Assert.All(config.Where(kv => kv.Key.EndsWith("__Deployment", StringComparison.Ordinal)), kv => Assert.Contains(kv.Value, names));
        Assert.Equal("orleanscontrol-scheme", config["Controller__Kubernetes__Namespace"]);
    }

    [SkippableFact]
    public void The_role_is_bound_to_the_controller_alone_and_only_its_pods_mount_the_token()
    {
        var binding = Assert.Single(Overlays.Of<V1RoleBinding>("scheme"));
        Assert.Equal(("Role", "orleanscontrol-controller"), (binding.RoleRef.Kind, binding.RoleRef.Name));
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal(("ServiceAccount", "orleanscontrol-controller"), (subject.Kind, subject.Name));

        var mounting = Overlays.PodTemplates("scheme").Where(t => t.Template.Spec.AutomountServiceAccountToken != false).Select(t => t.Workload);
        Assert.Equal(["orleanscontrol-controller"], mounting);
        Assert.Equal("orleanscontrol-controller",
            Overlays.PodTemplates("scheme").Single(t => t.Workload == "orleanscontrol-controller").Template.Spec.ServiceAccountName);
    }

    [SkippableFact]
    public void The_bank_controller_calls_no_kubernetes_api_and_gets_no_token_or_role()
    {
        var config = Overlays.ControllerConfig("bank");
        Assert.NotEqual("true", config.GetValueOrDefault("Controller__Kubernetes__Enabled"));
        Assert.Empty(Overlays.Of<V1Role>("bank"));
        Assert.Empty(Overlays.Of<V1RoleBinding>("bank"));
        Assert.Empty(Overlays.Of<V1ClusterRole>("bank"));
        Assert.False(Assert.Single(Overlays.Of<V1ServiceAccount>("bank")).AutomountServiceAccountToken);
        Assert.All(Overlays.PodTemplates("bank"), t => Assert.False(t.Template.Spec.AutomountServiceAccountToken, $"{t.Workload} mounts a token"));
    }

    [SkippableFact]
    public void A_failed_pod_leaves_rotation_without_leaving_its_replica_set()
    {
        var rotation = new KubernetesOptions().RotationLabel;
        var config = Overlays.ControllerConfig("scheme");
        Assert.False(config.ContainsKey("Controller__Kubernetes__RotationLabel"), "the overlay keeps the default label");
        var deployment = Overlays.Of<V1Deployment>("scheme").Single(d => d.Metadata.Name == config["Controller__Kubernetes__Pools__scheme__Deployment"]);
        Assert.Equal("in", deployment.Spec.Template.Metadata.Labels[rotation]);
        Assert.False(deployment.Spec.Selector.MatchLabels.ContainsKey(rotation), "the ReplicaSet would replace a pod taken out of rotation");

        var iso = Overlays.Of<V1Service>("scheme").Single(s => s.Metadata.Name == "scheme-iso");
        Assert.Equal("in", iso.Spec.Selector[rotation]);
        Assert.All(iso.Spec.Selector, kv => Assert.Equal(kv.Value, deployment.Spec.Template.Metadata.Labels[kv.Key]));
        // Reachable from the bank cluster through an internal load balancer, nothing internet-facing.
        Assert.Equal("LoadBalancer", iso.Spec.Type);
        Assert.Equal("internal", iso.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"]);
        Assert.NotEmpty(iso.Spec.LoadBalancerSourceRanges);
        Assert.All(Overlays.Of<V1Service>("scheme").Where(s => s.Spec.Type == "LoadBalancer"),
            s => Assert.Equal("internal", s.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"]));
    }

    private static string Grant(string group, string resource, string verb, IEnumerable<string> names) =>
        $"{(group.Length == 0 ? "core" : group)}/{resource} {verb} [{string.Join(',', names.Order())}]";
}
