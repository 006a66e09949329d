using System.Diagnostics.Metrics;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Telemetry;

/// <summary>The control plane's own instruments (meter <see cref="MeterName"/>); exported by the silo at /metrics.</summary>
public sealed class ControllerMetrics
{
    public const string MeterName = "OrleansControl.Grains";

    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _heartbeats;
    private readonly Counter<long> _failovers;
    private readonly Histogram<double> _timeToDetect;
    private readonly Histogram<double> _failoverDuration;

    public ControllerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _connections = meter.CreateUpDownCounter<long>("orleanscontrol.connections", "{connection}",
            "Connections whose grain is active on this silo, by status");
        _heartbeats = meter.CreateCounter<long>("orleanscontrol.heartbeats", "{heartbeat}", "Heartbeats received");
        _failovers = meter.CreateCounter<long>("orleanscontrol.failovers", "{failover}", "Failovers by trigger and outcome");
        _timeToDetect = meter.CreateHistogram<double>("orleanscontrol.failure.time_to_detect", "s",
            "From the last heartbeat to the moment the connection was declared failed by timeout");
        _failoverDuration = meter.CreateHistogram<double>("orleanscontrol.failover.duration", "s",
            "From Failed to Active on the target");
    }

    public void StatusEntered(ConnectionStatus status) => _connections.Add(1, Tag(status));

    public void StatusLeft(ConnectionStatus status) => _connections.Add(-1, Tag(status));

    public void Heartbeat() => _heartbeats.Add(1);

    public void Failover(string trigger, FailoverOutcome outcome) =>
        _failovers.Add(1, new KeyValuePair<string, object?>("trigger", trigger), new KeyValuePair<string, object?>("outcome", outcome.ToString()));

    public void TimeToDetect(TimeSpan elapsed) => _timeToDetect.Record(elapsed.TotalSeconds);

    public void FailoverDuration(TimeSpan elapsed) => _failoverDuration.Record(elapsed.TotalSeconds);

    private static KeyValuePair<string, object?> Tag(ConnectionStatus status) => new("status", status.ToString());
}
