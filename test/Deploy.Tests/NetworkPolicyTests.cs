using k8s.Models;
using OrleansControl.Deploy.Tests.Infrastructure;

namespace OrleansControl.Deploy.Tests;

/// <summary>
/// The NetworkPolicies of each rendered overlay, flattened to flows ("in A &lt;- B TCP/port", "out A -&gt; B
/// TCP/port"), equal exactly the flows of the architecture; everything else is denied by default.
/// </summary>
public sealed class NetworkPolicyTests
{
    private const string Controller = "orleanscontrol-controller";

    private static readonly string[] Common =
    [
        "out * -> ns:kube-system/pod:kube-dns UDP/53",
        "out * -> ns:kube-system/pod:kube-dns TCP/53",
        // silo <-> silo, and the Orleans client port among the controllers
        $"in {Controller} <- pod:{Controller} TCP/11111",
        $"in {Controller} <- pod:{Controller} TCP/30000",
        $"out {Controller} -> pod:{Controller} TCP/11111",
        $"out {Controller} -> pod:{Controller} TCP/30000",
        // controller -> Redis
        $"out {Controller} -> pod:orleanscontrol-redis TCP/6379",
        $"in orleanscontrol-redis <- pod:{Controller} TCP/6379",
        // /metrics and the probes from the monitoring namespace only
        $"in {Controller} <- ns:monitoring TCP/8090",
    ];

    private static readonly Dictionary<string, string[]> Expected = new()
    {
        ["bank"] =
        [
            .. Common,
            // sidecar -> its controller's gateway
            $"out bank-client -> pod:{Controller} TCP/9090",
            $"in {Controller} <- pod:bank-client TCP/9090",
            // bank sidecar -> the scheme's ISO endpoint (scheme VPC)
            "out bank-client -> cidr:10.10.0.0/16 TCP/5000",
            // the sidecar's /metrics (and probes) on its probe port, from the monitoring namespace only
            "in bank-client <- ns:monitoring TCP/8082",
            // controller <-> peer controller (scheme VPC), and this cluster's NLB health checks
            $"in {Controller} <- cidr:10.10.0.0/16 TCP/9090",
            $"out {Controller} -> cidr:10.10.0.0/16 TCP/9090",
            $"in {Controller} <- cidr:10.20.0.0/24 TCP/9090",
            // controller -> Kafka
            $"out {Controller} -> cidr:10.20.64.0/20 TCP/9096",
        ],
        ["scheme"] =
        [
            .. Common,
            // bank sidecars (bank VPC) and the NLB's health checks -> the ISO servers
            "in scheme-server <- cidr:10.20.0.0/16 TCP/5000",
            "in scheme-server <- cidr:10.10.0.0/24 TCP/5000",
            // controller <-> peer controller (bank VPC), the registrar, and the NLB's health checks
            $"in {Controller} <- cidr:10.20.0.0/16 TCP/9090",
            $"out {Controller} -> cidr:10.20.0.0/16 TCP/9090",
            $"in {Controller} <- pod:orleanscontrol.io/operator=true TCP/9090",
            $"in {Controller} <- pod:orleanscontrol.io/operator=true TCP/8080",
            $"in {Controller} <- cidr:10.10.0.0/24 TCP/9090",
            // controller -> the Kubernetes API (scaling, rotation) and Kafka
            $"out {Controller} -> cidr:10.10.0.0/16 TCP/443",
            $"out {Controller} -> cidr:10.10.64.0/20 TCP/9096",
            // the scheme servers' stop-sending consumer -> Kafka
            "out scheme-server -> cidr:10.10.64.0/20 TCP/9096",
        ],
    };

    public static TheoryData<string> OverlayNames => new(Overlays.Names);

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Everything_is_denied_by_default(string overlay)
    {
        var deny = Overlays.Of<V1NetworkPolicy>(overlay).Single(p => p.Metadata.Name == "default-deny-all");
        Assert.True(deny.Spec.PodSelector.MatchLabels is null or { Count: 0 });
        Assert.True(deny.Spec.PodSelector.MatchExpressions is null or { Count: 0 });
        Assert.Equal(["Egress", "Ingress"], deny.Spec.PolicyTypes.Order());
        Assert.True(deny.Spec.Ingress is null or { Count: 0 });
        Assert.True(deny.Spec.Egress is null or { Count: 0 });
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Policies_allow_exactly_the_flows_of_the_architecture(string overlay)
    {
        var flows = Overlays.Of<V1NetworkPolicy>(overlay).SelectMany(Flows).ToList();

        Assert.Equal(Expected[overlay].Order(), flows.Distinct().Order());
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Every_rule_names_its_peers_and_ports(string overlay)
    {
        Assert.All(Overlays.Of<V1NetworkPolicy>(overlay), p =>
        {
            Assert.All(p.Spec.Ingress ?? [], r => Assert.True(r.FromProperty is { Count: > 0 } && r.Ports is { Count: > 0 }, $"{p.Metadata.Name}: an ingress rule open to all peers or ports"));
            Assert.All(p.Spec.Egress ?? [], r => Assert.True(r.To is { Count: > 0 } && r.Ports is { Count: > 0 }, $"{p.Metadata.Name}: an egress rule open to all peers or ports"));
        });
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Metrics_port_is_reachable_from_the_monitoring_namespace_alone(string overlay)
    {
        var probePort = Overlays.Containers(overlay).Single(x => x.Workload == Controller).Container.Ports.Single(p => p.Name == "probes").ContainerPort;
        var toProbes = Overlays.Of<V1NetworkPolicy>(overlay).SelectMany(Flows).Where(f => f.StartsWith($"in {Controller}", StringComparison.Ordinal) && f.EndsWith($"/{probePort}", StringComparison.Ordinal));
        Assert.Equal([$"in {Controller} <- ns:monitoring TCP/{probePort}"], toProbes.Distinct());
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Every_allowed_flow_between_pods_is_allowed_at_both_ends(string overlay)
    {
        var flows = Overlays.Of<V1NetworkPolicy>(overlay).SelectMany(Flows).ToHashSet();
        foreach (var flow in flows.Where(f => f.StartsWith("out ", StringComparison.Ordinal) && f.Contains(" -> pod:", StringComparison.Ordinal)))
        {
            // "out A -> pod:B PORT" needs "in B <- pod:A PORT"
            var parts = flow.Split(' ');
            var reverse = $"in {parts[3]["pod:".Length..]} <- pod:{parts[1]} {parts[4]}";
            Assert.Contains(reverse, flows);
        }
    }

    private static IEnumerable<string> Flows(V1NetworkPolicy p)
    {
        var target = Selector(p.Spec.PodSelector) ?? "*";
        foreach (var rule in p.Spec.Ingress ?? [])
            foreach (var peer in rule.FromProperty ?? [])
                foreach (var port in rule.Ports ?? [])
                    yield return $"in {target} <- {Peer(peer)} {port.Protocol ?? "TCP"}/{port.Port.Value}";
        foreach (var rule in p.Spec.Egress ?? [])
            foreach (var peer in rule.To ?? [])
                foreach (var port in rule.Ports ?? [])
                    yield return $"out {target} -> {Peer(peer)} {port.Protocol ?? "TCP"}/{port.Port.Value}";
    }

    private static string Peer(V1NetworkPolicyPeer peer)
    {
        if (peer.IpBlock is { } block)
            return $"cidr:{block.Cidr}" + (block.Except is { Count: > 0 } ex ? $" except {string.Join(',', ex)}" : "");
        string? ns = null;
        if (peer.NamespaceSelector?.MatchLabels is { } nsLabels && nsLabels.TryGetValue("kubernetes.io/metadata.name", out var nsName)) ns = nsName;
        var pod = Selector(peer.PodSelector);
        return (ns, pod) switch
        {
            (null, null) => "any",
            (null, _) => $"pod:{pod}",
            (_, null) => $"ns:{ns}",
            _ => $"ns:{ns}/pod:{pod}",
        };
    }

    private static string? Selector(V1LabelSelector? selector)
    {
        var labels = selector?.MatchLabels;
        if (labels is null || labels.Count == 0)
            return null;
        if (labels.TryGetValue("app.kubernetes.io/name", out var app))
            return app;
        if (labels.TryGetValue("k8s-app", out var k8sApp))
            return k8sApp;
        return string.Join(',', labels.Select(l => $"{l.Key}={l.Value}"));
    }
}
