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
    private readonly Counter<long> _noTargetRetries;
    private readonly Counter<long> _moveAttemptsFailed;
    private readonly Counter<long> _corrections;
    private readonly Counter<long> _ejections;
    private readonly Counter<long> _eventsDropped;
    private readonly Counter<long> _provisional;
    private readonly Counter<long> _overCapacity;
    private readonly Counter<long> _clientSilences;

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
            "From Failed to Active on the target (the sidecar signed on there)");
        _noTargetRetries = meter.CreateCounter<long>("orleanscontrol.failover.no_target_retries", "{retry}",
            "Retries of failovers that had no target");
        _moveAttemptsFailed = meter.CreateCounter<long>("orleanscontrol.failover.attempts_failed", "{attempt}",
            "Move attempts whose target did not sign on before the deadline or was refused");
        _corrections = meter.CreateCounter<long>("orleanscontrol.registry.corrections", "{correction}",
            "Times the registry followed a sidecar that reported its link elsewhere than the registry said");
        _ejections = meter.CreateCounter<long>("orleanscontrol.pool.ejections", "{ejection}", "Servers ejected as suspect");
        _eventsDropped = meter.CreateCounter<long>("orleanscontrol.events.dropped", "{event}",
            "Status events dropped after the stream provider refused them for too long");
        _provisional = meter.CreateCounter<long>("orleanscontrol.pool.provisional", "{answer}",
            "Pool answers taken from this silo's replica because the pool grain did not answer in time (its silo dying)");
        _overCapacity = meter.CreateCounter<long>("orleanscontrol.pool.over_capacity", "{connection}",
            "Connections the pool took on a server beyond its capacity because the link signed on there");
        _clientSilences = meter.CreateCounter<long>("orleanscontrol.client.silences", "{silence}",
            "Silent clients judged by the server side, by what followed: unknown (session held), dr_activating, dr_activated, no_standby");
    }

    public void ClientSilence(string outcome) => _clientSilences.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void StatusEntered(ConnectionStatus status) => _connections.Add(1, Tag(status));

    public void StatusLeft(ConnectionStatus status) => _connections.Add(-1, Tag(status));

    public void Heartbeat() => _heartbeats.Add(1);

    public void Failover(string trigger, FailoverOutcome outcome) =>
        _failovers.Add(1, new KeyValuePair<string, object?>("trigger", trigger), new KeyValuePair<string, object?>("outcome", outcome.ToString()));

    public void TimeToDetect(TimeSpan elapsed) => _timeToDetect.Record(elapsed.TotalSeconds);

    public void FailoverDuration(TimeSpan elapsed) => _failoverDuration.Record(elapsed.TotalSeconds);

    public void NoTargetRetry() => _noTargetRetries.Add(1);

    public void MoveAttemptFailed() => _moveAttemptsFailed.Add(1);

    public void RegistryCorrected() => _corrections.Add(1);

    public void ServerEjected() => _ejections.Add(1);

    public void EventsDropped(int count) => _eventsDropped.Add(count);

    public void ProvisionalPoolAnswer(string what) => _provisional.Add(1, new KeyValuePair<string, object?>("call", what));

    public void OverCapacity() => _overCapacity.Add(1);

    private static KeyValuePair<string, object?> Tag(ConnectionStatus status) => new("status", status.ToString());
}
