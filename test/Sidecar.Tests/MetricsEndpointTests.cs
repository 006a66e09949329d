using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>The sidecar host's /metrics, scraped over real HTTP from the host running as its own process.</summary>
public sealed partial class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_show_link_state_echo_rtt_requests_by_outcome_in_flight_reconnects_and_commands()
    {
        await using var a = new Scheme("A");
        await using var b = new Scheme("B");
        await using var controller = await FakeController.StartAsync(assign: a.Address);
        var probePort = SchemeProcess.FreePort();
        using var sidecar = await SidecarProcess.StartAsync("", new Dictionary<string, string>
        {
            ["Sidecar:Link:EchoInterval"] = "00:00:01",
            ["Sidecar:Link:Reversals:Enabled"] = "false",
            ["Sidecar:Agent:Controller"] = controller.Address,
            ["Sidecar:Agent:SidecarId"] = "sidecar-m",
            ["Sidecar:Agent:ClientId"] = "bank-a",
            ["Sidecar:Agent:HeartbeatInterval"] = "00:00:00.200",
            ["Sidecar:Probes:Url"] = $"http://127.0.0.1:{probePort}",
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var metricsAt = new Uri(sidecar.ControlAddress, "/metrics");

        await Eventually.TrueAsync(async () => Value(await http.GetStringAsync(metricsAt), "orleanscontrol_sidecar_echoes_total", "outcome=\"answered\"") > 0,
            TimeSpan.FromSeconds(20), "an echo answered on A");
        await using (var app = await Links.ConnectAsync(sidecar.RelayAddress))
        {
            Assert.Equal("A", (await app.SendAsync(Scheme.Authorization("000001"))).GetString(44));

            // One request held by the scheme: in flight until it is answered.
            a.Hold = true;
            var held = app.SendAsync(Scheme.Authorization("000002"));
            await a.WaitHeldAsync(1);
            await Eventually.TrueAsync(async () => Value(await http.GetStringAsync(metricsAt), "orleanscontrol_sidecar_requests_in_flight") == 1,
                TimeSpan.FromSeconds(10), "one request in flight"); // the exporter caches a scrape for 300 ms
            a.ReleaseAll();
            await held;
        }

        await controller.Shared.Commands.Writer.WriteAsync(new Command
        {
            CommandId = "m1",
            Sequence = 1,
            Kind = CommandKind.ReconnectElsewhere,
            ConnectionId = "sidecar-m.bank-a",
            TargetServerAddress = b.Address,
        });
        await Eventually.TrueAsync(() => controller.Shared.Acks.Any(x => x.CommandId == "m1" && x.Success), TimeSpan.FromSeconds(15), "the move acknowledged");

        var text = "";
        await Eventually.TrueAsync(async () => Value(text = await http.GetStringAsync(metricsAt), "orleanscontrol_sidecar_commands_total", "success=\"true\"") >= 1,
            TimeSpan.FromSeconds(10), "the command counted");
        Assert.Equal(1, Value(text, "orleanscontrol_sidecar_link_state", "state=\"signed_on\""));
        Assert.Equal(0, Value(text, "orleanscontrol_sidecar_link_state", "state=\"down\""));
        Assert.True(Value(text, "orleanscontrol_sidecar_echo_rtt_milliseconds_count") > 0, "echo round trips recorded");
        Assert.Equal(2, Value(text, "orleanscontrol_sidecar_requests_total", "outcome=\"answered\""));
        Assert.Equal(0, Value(text, "orleanscontrol_sidecar_requests_in_flight"));
        Assert.True(Value(text, "orleanscontrol_sidecar_reconnects_total") >= 1, "the move counted as a reconnect");
        Assert.Equal(1, Value(text, "orleanscontrol_sidecar_commands_total", "kind=\"ReconnectElsewhere\""));
        Assert.Contains("link=\"bank-link\"", text, StringComparison.Ordinal);

        // Also on the probe port (what Prometheus in the cluster reaches); nothing else is served there.
        var probe = new Uri($"http://127.0.0.1:{probePort}");
        Assert.Contains("orleanscontrol_sidecar_link_state", await http.GetStringAsync(new Uri(probe, "/metrics")), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(probe, "/control/status"))).StatusCode);
    }

    /// <summary>The sum of the samples of <paramref name="metric"/> whose labels contain every one of <paramref name="labels"/>; -1 when none.</summary>
    private static double Value(string exposition, string metric, params string[] labels)
    {
        var found = false;
        var sum = 0.0;
        foreach (Match m in Sample().Matches(exposition))
        {
            if (m.Groups["name"].Value != metric || !labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            {
                continue;
            }

            found = true;
            sum += double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return found ? sum : -1;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
