using System.Diagnostics.Metrics;

namespace OrleansControl.Sidecar.Telemetry;

/// <summary>
/// The sidecar's own instruments (meter <see cref="MeterName"/>), every one tagged with the link's name: requests by
/// definite outcome, and the reversals that settle the ones whose fate was unknown.
/// </summary>
public sealed class SidecarMetrics : IDisposable
{
    public const string MeterName = "OrleansControl.Sidecar";

    private readonly Meter? _owned;
    private readonly KeyValuePair<string, object?> _link;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _queued;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _acknowledged;
    private readonly Counter<long> _givenUp;
    private readonly Counter<long> _lateResponses;

    /// <param name="meters">The host's factory; without one (the library used on its own) the meter is created and owned here.</param>
    /// <param name="link">The link's name, as in logs.</param>
    public SidecarMetrics(IMeterFactory? meters, string link)
    {
        var meter = meters?.Create(MeterName) ?? (_owned = new Meter(MeterName));
        _link = new("link", link);
        _requests = meter.CreateCounter<long>("orleanscontrol.sidecar.requests", "{request}",
            "Application requests by definite outcome: answered, not_sent (never reached the wire), fate_unknown (sent, no answer)");
        _queued = meter.CreateCounter<long>("orleanscontrol.sidecar.reversals.queued", "{reversal}", "Reversals journaled for requests whose fate was unknown");
        _sent = meter.CreateCounter<long>("orleanscontrol.sidecar.reversals.sent", "{message}", "Reversal transmissions, by MTI (0420, then 0421 repeats)");
        _acknowledged = meter.CreateCounter<long>("orleanscontrol.sidecar.reversals.acknowledged", "{reversal}", "Reversals acknowledged by the scheme (0430)");
        _givenUp = meter.CreateCounter<long>("orleanscontrol.sidecar.reversals.given_up", "{reversal}", "Reversals given up after the retry schedule or their age limit");
        _lateResponses = meter.CreateCounter<long>("orleanscontrol.sidecar.reversals.late_responses", "{response}",
            "Responses that arrived for an original already reversed: counted, never delivered as an answer");
    }

    public void Request(RequestOutcome outcome, bool reversed = false) =>
        _requests.Add(1, _link, new("outcome", outcome switch
        {
            RequestOutcome.Answered => "answered",
            RequestOutcome.NotSent => "not_sent",
            _ => "fate_unknown",
        }), new("reversed", reversed));

    public void ReversalQueued() => _queued.Add(1, _link);

    public void ReversalSent(int mti) => _sent.Add(1, _link, new("mti", mti.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)));

    public void ReversalAcknowledged() => _acknowledged.Add(1, _link);

    public void ReversalGivenUp() => _givenUp.Add(1, _link);

    public void LateResponse() => _lateResponses.Add(1, _link);

    public void Dispose() => _owned?.Dispose();
}
