using System.Diagnostics.Metrics;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Telemetry;

/// <summary>
/// The sidecar's own instruments (meter <see cref="MeterName"/>), every one tagged with the link's name: the link's
/// state, echo round trips and reconnects, requests by definite outcome and in flight, the controller's commands, and
/// the reversals that settle the requests whose fate was unknown. The host scrapes them at <c>/metrics</c>.
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
    private readonly Histogram<double> _echoRtt;
    private readonly Counter<long> _echoes;
    private readonly Counter<long> _reconnects;
    private readonly Counter<long> _commands;
    private Func<ConnectionState>? _state;
    private Func<int>? _inFlight;

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
        _echoRtt = meter.CreateHistogram<double>("orleanscontrol.sidecar.echo.rtt", "ms", "Round trip of answered echo tests (0800/0810)",
            advice: new() { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] });
        _echoes = meter.CreateCounter<long>("orleanscontrol.sidecar.echoes", "{echo}", "Echo tests by outcome: answered, refused, timed_out, failed");
        _reconnects = meter.CreateCounter<long>("orleanscontrol.sidecar.reconnects", "{session}",
            "Sessions replaced: the signed-on session lost, or a move to another server");
        _commands = meter.CreateCounter<long>("orleanscontrol.sidecar.commands", "{command}",
            "The controller's commands carried out, by kind and success");
        meter.CreateObservableGauge("orleanscontrol.sidecar.link.state", ObserveState, "{link}",
            "1 for the state the link is in (tag state), 0 for the others");
        meter.CreateObservableUpDownCounter("orleanscontrol.sidecar.requests.in_flight", ObserveInFlight, "{request}",
            "Requests sent and waiting for their answer");
    }

    /// <summary>Where the observable instruments read from: the link that owns these metrics.</summary>
    public void Observe(Func<ConnectionState> state, Func<int> inFlight)
    {
        _state = state;
        _inFlight = inFlight;
    }

    public void EchoAnswered(TimeSpan rtt)
    {
        _echoRtt.Record(rtt.TotalMilliseconds, _link);
        _echoes.Add(1, _link, new("outcome", "answered"));
    }

    /// <param name="outcome">refused, timed_out or failed.</param>
    public void EchoMissed(string outcome) => _echoes.Add(1, _link, new("outcome", outcome));

    public void Reconnect() => _reconnects.Add(1, _link);

    public void Command(string kind, bool success) => _commands.Add(1, _link, new("kind", kind), new("success", success));

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

    private IEnumerable<Measurement<int>> ObserveState()
    {
        if (_state is not { } read)
        {
            yield break;
        }

        var current = read();
        foreach (var state in Enum.GetValues<ConnectionState>())
        {
            yield return new(state == current ? 1 : 0, _link, new("state", StateName(state)));
        }
    }

    private IEnumerable<Measurement<int>> ObserveInFlight()
    {
        if (_inFlight is { } read)
        {
            yield return new(read(), _link);
        }
    }

    private static string StateName(ConnectionState state) => state switch
    {
        ConnectionState.SignedOn => "signed_on",
        _ => state.ToString().ToLowerInvariant(),
    };
}
