using Microsoft.Extensions.Options;

namespace OrleansControl.Grains.Tests.Silo;

public sealed class SiloConfigurationTests
{
    [Theory]
    [InlineData("Controller:Clustering", "redis", "Controller:Redis")]
    [InlineData("Controller:Storage", "redis", "Controller:Redis")]
    [InlineData("Controller:Clustering", "zookeeper", "Controller:Clustering")]
    [InlineData("Controller:Role", "acquirer", "Controller:Role")]
    [InlineData("Controller:Streams", "kafka", "Controller:Streams")]
    [InlineData("Controller:SiloPort", "0", "Controller:SiloPort")]
    [InlineData("Controller:Region", "", "Controller:Region")]
    [InlineData("Controller:AdvertisedAddress", "not-an-ip", "Controller:AdvertisedAddress")]
    [InlineData("Controller:Health:HeartbeatInterval", "00:00:00.500", "Controller:Health:HeartbeatInterval")]
    [InlineData("Controller:Health:MissedHeartbeatsBeforeFailed", "0", "Controller:Health:MissedHeartbeatsBeforeFailed")]
    [InlineData("Controller:Health:MoveDeadline", "00:00:00.010", "Controller:Health:MoveDeadline")]
    [InlineData("Controller:Health:MaxMoveAttempts", "0", "Controller:Health:MaxMoveAttempts")]
    [InlineData("Controller:Ejection:MaxEjectionPercent", "0", "Controller:Ejection:MaxEjectionPercent")]
    [InlineData("Controller:Ejection:BaseEjectionTime", "00:00:00", "Controller:Ejection:BaseEjectionTime")]
    public void Invalid_setting_stops_start_up_and_names_the_setting(string key, string value, string named)
    {
        var settings = SiloHost.Ports();
        settings[key] = value;
        var error = Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_health_and_ejection_setting_is_named_at_once_with_its_full_key()
    {
        var settings = SiloHost.Ports();
        settings["Controller:Health:HeartbeatInterval"] = "00:00:00.500";
        settings["Controller:Health:MaxMoveAttempts"] = "21";
        settings["Controller:Health:PoolCallDeadline"] = "00:01:00";
        settings["Controller:Health:DegradedBelow"] = "80";
        settings["Controller:Ejection:FailuresToEject"] = "0";
        settings["Controller:Ejection:MaxEjectionTime"] = "00:00:01";

        var failures = Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings)).Failures.ToList();

        Assert.Contains("Controller:Health:HeartbeatInterval must be at least 1 s", failures);
        Assert.Contains("Controller:Health:MaxMoveAttempts must be 1..20", failures);
        Assert.Contains("Controller:Health:PoolCallDeadline must be 50 ms..30 s", failures);
        Assert.Contains("Controller:Health:RecoveredAtOrAbove must be ≥ Controller:Health:DegradedBelow", failures);
        Assert.Contains("Controller:Ejection:FailuresToEject must be 1..1000", failures);
        Assert.Contains("Controller:Ejection:MaxEjectionTime must be at least Controller:Ejection:BaseEjectionTime", failures);
    }
}

public sealed class KubernetesConfigurationTests
{
    private static Dictionary<string, string?> Enabled()
    {
        var settings = SiloHost.Ports();
        settings["Controller:Kubernetes:Enabled"] = "true";
        settings["Controller:Kubernetes:Namespace"] = "orleanscontrol-scheme";
        settings["Controller:Kubernetes:Pools:scheme:Deployment"] = "scheme-server";
        settings["Controller:Kubernetes:Pools:scheme:Min"] = "2";
        settings["Controller:Kubernetes:Pools:scheme:Max"] = "6";
        return settings;
    }

    [Theory]
    [InlineData("Controller:Kubernetes:Namespace", "", "Controller:Kubernetes:Namespace")]
    [InlineData("Controller:Kubernetes:Namespace", "Not_A_Namespace", "Controller:Kubernetes:Namespace")]
    [InlineData("Controller:Kubernetes:Pools:scheme:Deployment", "", "Controller:Kubernetes:Pools:scheme:Deployment")]
    [InlineData("Controller:Kubernetes:Pools:scheme:Min", "0", "Controller:Kubernetes:Pools:scheme:Min")]
    [InlineData("Controller:Kubernetes:Pools:scheme:Max", "1", "Controller:Kubernetes:Pools:scheme:Max")]
    [InlineData("Controller:Kubernetes:Connection", "kubeconfig", "Controller:Kubernetes:KubeconfigPath")]
    [InlineData("Controller:Kubernetes:KubeconfigPath", "/etc/kube/config", "Controller:Kubernetes:KubeconfigPath")]
    [InlineData("Controller:Kubernetes:ReadyTimeout", "00:00:00", "Controller:Kubernetes:ReadyTimeout")]
    [InlineData("Controller:Kubernetes:MaxRetries", "-1", "Controller:Kubernetes:MaxRetries")]
    [InlineData("Controller:Kubernetes:RotationLabel", "not a label", "Controller:Kubernetes:RotationLabel")]
    public void Invalid_kubernetes_setting_stops_start_up_and_names_it(string key, string value, string named)
    {
        var settings = Enabled();
        settings[key] = value;
        var error = Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kubeconfig_that_does_not_exist_stops_start_up()
    {
        var settings = Enabled();
        settings["Controller:Kubernetes:Connection"] = "kubeconfig";
        settings["Controller:Kubernetes:KubeconfigPath"] = "/nonexistent/kubeconfig";
        var error = Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings));
        Assert.Contains("'/nonexistent/kubeconfig' does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enabled_without_pools_stops_start_up_and_disabled_needs_nothing()
    {
        var settings = SiloHost.Ports();
        settings["Controller:Kubernetes:Enabled"] = "true";
        settings["Controller:Kubernetes:Namespace"] = "orleanscontrol-scheme";
        Assert.Contains("Controller:Kubernetes:Pools", Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings)).Message, StringComparison.Ordinal);

        settings["Controller:Kubernetes:Enabled"] = "false";
        using var app = SiloHost.Build(settings);
    }
}

public sealed class ProbePortTests
{
    [Fact]
    public async Task The_probe_port_serves_health_and_metrics_and_nothing_else()
    {
        var settings = SiloHost.Ports();
        var port = SiloHost.FreePort();
        settings["Controller:ProbePort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var app = SiloHost.Build(settings);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var metrics = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        var health = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
        var other = await http.GetAsync(new Uri("/anything-else", UriKind.Relative));
        await app.StopAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public void A_probe_port_equal_to_the_silo_port_stops_start_up()
    {
        var settings = SiloHost.Ports();
        settings["Controller:ProbePort"] = settings["Controller:SiloPort"];
        Assert.Contains("Controller:ProbePort", Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings)).Message, StringComparison.Ordinal);
    }
}

public sealed class SiloTlsConfigurationTests
{
    [Fact]
    public void A_non_loopback_silo_on_redis_clustering_without_tls_stops_start_up()
    {
        var settings = SiloHost.Ports();
        settings["Controller:Clustering"] = "redis";
        settings["Controller:Redis"] = "127.0.0.1:1";
        settings["Controller:AdvertisedAddress"] = "10.0.12.34";
        var error = Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings));
        Assert.Contains("Controller:SiloTls:Enabled", error.Message, StringComparison.Ordinal);

        settings["Controller:SiloTls:AllowInsecure"] = "true";
        using var app = SiloHost.Build(settings);
    }

    [Fact]
    public void Silo_tls_without_its_files_stops_start_up_and_names_the_setting()
    {
        var settings = SiloHost.Ports();
        settings["Controller:SiloTls:Enabled"] = "true";
        Assert.Contains("Controller:SiloTls:CertificatePath", Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings)).Message, StringComparison.Ordinal);

        settings["Controller:SiloTls:CertificatePath"] = "/nonexistent/tls.crt";
        settings["Controller:SiloTls:KeyPath"] = "/nonexistent/tls.key";
        settings["Controller:SiloTls:CaPath"] = "/nonexistent/ca.crt";
        var missing = Assert.Throws<InvalidOperationException>(() => SiloHost.Build(settings));
        Assert.Contains("Controller:SiloTls:CertificatePath '/nonexistent/tls.crt' does not exist", missing.Message, StringComparison.Ordinal);
    }
}
