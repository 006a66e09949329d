using System.Text.RegularExpressions;
using k8s.Models;
using OrleansControl.Deploy.Tests.Infrastructure;

namespace OrleansControl.Deploy.Tests;

/// <summary>Every container of both rendered overlays: locked down, bounded, probed, pinned.</summary>
public sealed partial class WorkloadSecurityTests
{
    public static TheoryData<string> OverlayNames => new(Overlays.Names);

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Both_overlays_render_and_hold_the_expected_workloads(string overlay)
    {
        var workloads = Overlays.PodTemplates(overlay).Select(t => t.Workload).ToList();
        Assert.Contains("orleanscontrol-controller", workloads);
        Assert.Contains("orleanscontrol-redis", workloads);
        Assert.Contains(overlay == "bank" ? "bank-client" : "scheme-server", workloads);
        Assert.All(Overlays.Render(overlay).OfType<k8s.IKubernetesObject<V1ObjectMeta>>(), o =>
            Assert.True(o is V1Namespace || o.Metadata.NamespaceProperty == $"orleanscontrol-{overlay}", $"{o.Kind}/{o.Metadata.Name} is outside the overlay's namespace"));
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Every_container_is_non_root_read_only_without_capabilities_under_runtime_default_seccomp(string overlay)
    {
        Assert.All(Overlays.Containers(overlay), x =>
        {
            var (workload, c, pod) = x;
            var at = $"{workload}/{c.Name}";
            var s = c.SecurityContext;
            Assert.True(s is not null, $"{at}: no securityContext");
            Assert.True((s.RunAsNonRoot ?? pod.SecurityContext?.RunAsNonRoot) == true, $"{at}: runAsNonRoot");
            Assert.True((s.RunAsUser ?? pod.SecurityContext?.RunAsUser) is > 0, $"{at}: a non-zero runAsUser (images may not declare a numeric USER)");
            Assert.True(s.ReadOnlyRootFilesystem == true, $"{at}: readOnlyRootFilesystem");
            Assert.True(s.AllowPrivilegeEscalation == false, $"{at}: allowPrivilegeEscalation");
            Assert.True(s.Privileged != true, $"{at}: privileged");
            Assert.True(s.Capabilities?.Drop?.Contains("ALL") == true, $"{at}: capabilities.drop ALL");
            Assert.True(s.Capabilities?.Add is null or { Count: 0 }, $"{at}: adds capabilities");
            Assert.Equal("RuntimeDefault", (s.SeccompProfile ?? pod.SecurityContext?.SeccompProfile)?.Type);
            Assert.True(pod.HostNetwork != true && pod.HostPID != true && pod.HostIPC != true, $"{at}: shares a host namespace");
        });
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Every_container_has_cpu_and_memory_requests_and_limits(string overlay)
    {
        Assert.All(Overlays.Containers(overlay), x =>
        {
            var r = x.Container.Resources;
            foreach (var kind in new[] { "cpu", "memory" })
            {
                Assert.True(r?.Requests?.ContainsKey(kind) == true, $"{x.Workload}/{x.Container.Name}: requests.{kind}");
                Assert.True(r?.Limits?.ContainsKey(kind) == true, $"{x.Workload}/{x.Container.Name}: limits.{kind}");
            }
        });
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Every_container_has_readiness_and_liveness_probes_on_a_declared_port(string overlay)
    {
        Assert.All(Overlays.Containers(overlay), x =>
        {
            var at = $"{x.Workload}/{x.Container.Name}";
            foreach (var (kind, probe) in new[] { ("readiness", x.Container.ReadinessProbe), ("liveness", x.Container.LivenessProbe) })
            {
                Assert.True(probe is not null, $"{at}: no {kind} probe");
                var port = probe.HttpGet?.Port ?? probe.TcpSocket?.Port;
                if (port is not null)
                    Assert.True(x.Container.Ports?.Any(p => p.Name == port.Value || p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == port.Value) == true,
                        $"{at}: {kind} probe port {port.Value} is not a declared container port");
                else
                    Assert.True(probe.Exec is not null, $"{at}: {kind} probe has no handler");
            }
        });
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Every_image_is_pinned_by_tag_and_digest_never_latest(string overlay)
    {
        Assert.All(Overlays.Containers(overlay), x =>
        {
            Assert.Matches(PinnedImage(), x.Container.Image);
            Assert.DoesNotContain(":latest", x.Container.Image, StringComparison.Ordinal);
        });
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void The_root_filesystem_being_read_only_every_container_gets_a_writable_tmp(string overlay)
    {
        Assert.All(Overlays.Containers(overlay), x =>
        {
            var tmp = x.Container.VolumeMounts?.SingleOrDefault(m => m.MountPath == "/tmp");
            Assert.True(tmp is not null, $"{x.Workload}/{x.Container.Name}: no /tmp volume");
            Assert.NotNull(x.Pod.Volumes.Single(v => v.Name == tmp.Name).EmptyDir);
        });
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Redis_requires_a_password_from_a_secret_and_persists_append_only_every_second(string overlay)
    {
        var redis = Overlays.Containers(overlay).Single(x => x.Workload == "orleanscontrol-redis").Container;
        var args = redis.Args.ToList();
        Assert.Equal("$(REDIS_PASSWORD)", args[args.IndexOf("--requirepass") + 1]);
        Assert.Equal("yes", args[args.IndexOf("--appendonly") + 1]);
        Assert.Equal("everysec", args[args.IndexOf("--appendfsync") + 1]);
        var password = redis.Env.Single(e => e.Name == "REDIS_PASSWORD").ValueFrom.SecretKeyRef;
        Assert.StartsWith("orleanscontrol-redis", password.Name, StringComparison.Ordinal);
        var secret = Overlays.Of<V1Secret>(overlay).Single(s => s.Metadata.Name == password.Name);
        Assert.True(secret.Data.ContainsKey(password.Key), $"secret {password.Name} has no key {password.Key}");

        // The controller connects with that same password.
        var controller = Overlays.Containers(overlay).Single(x => x.Workload == "orleanscontrol-controller").Container;
        Assert.Equal(password.Name, controller.Env.Single(e => e.Name == "REDIS_PASSWORD").ValueFrom.SecretKeyRef.Name);
        Assert.Contains("password=$(REDIS_PASSWORD)", controller.Env.Single(e => e.Name == "Controller__Redis").Value, StringComparison.Ordinal);
        var order = controller.Env.Select(e => e.Name).ToList();
        Assert.True(order.IndexOf("REDIS_PASSWORD") < order.IndexOf("Controller__Redis"), "$(REDIS_PASSWORD) expands only if defined before");
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Redis_listens_on_tls_alone_with_a_certificate_the_controller_checks(string overlay)
    {
        var (_, redis, redisPod) = Overlays.Containers(overlay).Single(x => x.Workload == "orleanscontrol-redis");
        var args = redis.Args.ToList();
        Assert.Equal("0", args[args.IndexOf("--port") + 1]);
        Assert.Equal("6379", args[args.IndexOf("--tls-port") + 1]);
        var tlsMount = redis.VolumeMounts.Single(m => args[args.IndexOf("--tls-cert-file") + 1].StartsWith(m.MountPath + "/", StringComparison.Ordinal));
        var serverSecret = redisPod.Volumes.Single(v => v.Name == tlsMount.Name).Secret.SecretName;

        var (_, controller, controllerPod) = Overlays.Containers(overlay).Single(x => x.Workload == "orleanscontrol-controller");
        var env = controller.Env.Where(e => e.Value is not null).ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal("true", env["Controller__RedisTls__Enabled"]);
        var caMount = controller.VolumeMounts.Single(m => env["Controller__RedisTls__CaPath"].StartsWith(m.MountPath + "/", StringComparison.Ordinal));
        var caVolume = controllerPod.Volumes.Single(v => v.Name == caMount.Name).Secret;
        Assert.Equal(serverSecret, caVolume.SecretName);
        Assert.Equal(["ca.crt"], caVolume.Items.Select(i => i.Key)); // the CA only: Redis's key stays in its own pod
    }

    [SkippableTheory]
    [MemberData(nameof(OverlayNames))]
    public void Every_container_of_ours_logs_json_lines(string overlay)
    {
        var ours = Overlays.Containers(overlay).Where(x => x.Container.Image.StartsWith("orleanscontrol/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(ours);
        Assert.All(ours, x => Assert.True(
            x.Container.Env?.Any(e => e.Name == "Logging__Console__FormatterName" && e.Value == "json") == true,
            $"{x.Workload}/{x.Container.Name}: Logging__Console__FormatterName=json"));
    }

    [GeneratedRegex("^[a-z0-9./-]+:(?!latest@)[A-Za-z0-9_.-]+@sha256:[0-9a-f]{64}$")]
    private static partial Regex PinnedImage();
}
