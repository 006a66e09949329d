using System.Diagnostics.Metrics;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// Instruments of the Kubernetes actions, on the controller's meter (<see cref="Telemetry.ControllerMetrics.MeterName"/>,
/// exported at /metrics): every action with its outcome, the time a scale-up took, every API request with its status.
/// </summary>
public sealed class KubernetesMetrics
{
    private readonly Counter<long> _actions;
    private readonly Histogram<double> _scaleUpDuration;
    private readonly Counter<long> _requests;

    public KubernetesMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Telemetry.ControllerMetrics.MeterName);
        _actions = meter.CreateCounter<long>("orleanscontrol.kubernetes.actions", "{action}",
            "Kubernetes actions on server pools, by action (scale_up, scale_down, rotate_out, rotate_in) and outcome");
        _scaleUpDuration = meter.CreateHistogram<double>("orleanscontrol.kubernetes.scale_up.duration", "s",
            "From the scale patch to the new pod Ready and its server registered in the pool");
        _requests = meter.CreateCounter<long>("orleanscontrol.kubernetes.api.requests", "{request}",
            "Kubernetes API requests by call (verb and resource) and outcome (ok, HTTP status, no_response)");
    }

    public void Action(ScalingEvent e) => _actions.Add(1,
        new KeyValuePair<string, object?>("pool", e.PoolId),
        new KeyValuePair<string, object?>("action", Snake(e.Action.ToString())),
        new KeyValuePair<string, object?>("outcome", Snake(e.Outcome.ToString())));

    public void ScaleUpDuration(TimeSpan elapsed) => _scaleUpDuration.Record(elapsed.TotalSeconds);

    public void ApiRequest(KubernetesApiCall call, string outcome) => _requests.Add(1,
        new KeyValuePair<string, object?>("call", call.ToString()),
        new KeyValuePair<string, object?>("outcome", outcome));

    private static string Snake(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
