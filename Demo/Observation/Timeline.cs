using OrleansControl.Demo.Processes;

namespace OrleansControl.Demo.Observation;

/// <summary>
/// The record of every fault the demo injected, each followed from the snapshots as they come in (see
/// <see cref="FaultRecord"/> for what each time means), plus a short log of what happened, in words.
/// </summary>
internal sealed class Timeline
{
    private readonly List<FaultRecord> _records = [];
    private readonly List<(TimeSpan At, string Text)> _events = [];
    private readonly Lock _gate = new();
    private readonly DemoClock _clock;

    public Timeline(DemoClock clock, Observer observer)
    {
        _clock = clock;
        observer.Observed += Follow;
    }

    public IReadOnlyList<FaultRecord> Records
    {
        get
        {
            lock (_gate)
            {
                return [.. _records];
            }
        }
    }

    public IReadOnlyList<(TimeSpan At, string Text)> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Also called for every event, e.g. to print it in plain mode.</summary>
    public event Action<TimeSpan, string>? Logged;

    public void Log(string text)
    {
        var at = _clock.Now;
        lock (_gate)
        {
            _events.Add((at, text));
        }

        Logged?.Invoke(at, text);
    }

    public FaultRecord Open(FaultKind kind, string description, string target, Bank bank, string? fromServer, TimeSpan injectedAt)
    {
        var record = new FaultRecord(kind, description, target, bank, fromServer, injectedAt);
        lock (_gate)
        {
            _records.Add(record);
        }

        return record;
    }

    public void Close(FaultRecord record)
    {
        lock (_gate)
        {
            if (record.ClosedAt is null)
            {
                record.ClosedAt = _clock.Now;
                record.AtClose = record.Bank.Client.Latest;
            }
        }
    }

    private void Follow(Snapshot snapshot)
    {
        List<(FaultRecord Record, string Text)> said = [];
        lock (_gate)
        {
            foreach (var r in _records.Where(r => r.ClosedAt is null))
            {
                Follow(r, snapshot, said);
            }
        }

        foreach (var (record, text) in said)
        {
            Log($"{record.Description}: {record.Connection} {text}");
        }
    }

    private static void Follow(FaultRecord r, Snapshot s, List<(FaultRecord, string)> said)
    {
        var entry = s.Entry(r.Connection);
        var sidecar = s.Sidecars.GetValueOrDefault(r.Bank.Sidecar.SidecarId);
        if (r.Kind == FaultKind.Link)
        {
            FollowLink(r, s, entry, said);
            return;
        }

        if (r.DetectedAt is null)
        {
            var detected = r.Kind == FaultKind.Controller
                ? sidecar is { ControllerAttached: false }
                : entry is null || entry.Status != "ACTIVE" || entry.ServerId != r.FromServer;
            if (detected && (s.ControllerAnswers || r.Kind == FaultKind.Controller))
            {
                r.DetectedAt = s.At;
                r.DetectedAs = r.Kind == FaultKind.Controller
                    ? "sidecar detached from the controller"
                    : entry is null ? "not registered" : $"{entry.Status} on {entry.ServerId ?? "-"}{(entry.StatusDetail.Length > 0 ? $": {entry.StatusDetail}" : "")}";
                said.Add((r, $"detected at {DemoClock.Format(s.At)} ({r.DetectedAs})"));
            }
        }

        if (r.ActiveAt is null && r.DetectedAt is not null && entry is { Status: "ACTIVE" } e
            && (r.Kind == FaultKind.Controller ? r.UndoneAt is { } back && s.At >= back : e.ServerId != r.FromServer) && s.Agrees(r.Bank))
        {
            r.ActiveAt = s.At;
            r.ActiveOn = e.ServerId;
            said.Add((r, $"ACTIVE on {e.ServerId} at {DemoClock.Format(s.At)}, where its link is signed on"));
        }

        FollowApprovals(r, said);
    }

    /// <summary>The link cut moves nothing: detected is when the scheme's replica first lags the bank's entry (if it
    /// does), recovered when, after the restore, both registries agree again.</summary>
    private static void FollowLink(FaultRecord r, Snapshot s, RegistryEntry? entry, List<(FaultRecord, string)> said)
    {
        if (r.DetectedAt is null && entry is not null && !s.RegistriesAgree(r.Connection))
        {
            r.DetectedAt = s.At;
            var replica = s.Replica?.GetValueOrDefault(r.Connection);
            r.DetectedAs = $"scheme's copy lags: {(replica is null ? "none" : $"v{replica.Version} {replica.Status} on {replica.ServerId ?? "-"}")} vs v{entry.Version}";
            said.Add((r, $"registries differ at {DemoClock.Format(s.At)} ({r.DetectedAs})"));
        }

        if (r.ActiveAt is null && r.UndoneAt is { } back && s.At >= back && s.RegistriesAgree(r.Connection) && s.Agrees(r.Bank))
        {
            r.ActiveAt = s.At;
            r.ActiveOn = entry?.ServerId;
            said.Add((r, $"both registries agree at {DemoClock.Format(s.At)}, {DemoClock.Delta(back, s.At)} after the restore " +
                $"(v{entry?.Version} {entry?.Status} on {entry?.ServerId})"));
        }

        FollowApprovals(r, said);
    }

    private static void FollowApprovals(FaultRecord r, List<(FaultRecord, string)> said)
    {
        // A server fault counts approvals by another server only; a controller or link fault any approval (they move no link).
        var notBy = r.Kind is FaultKind.Controller or FaultKind.Link ? null : r.FromServer;
        if (r.FirstApprovedAt is null && r.Bank.Client.FirstApproval(r.InjectedAt, notBy) is { } first)
        {
            r.FirstApprovedAt = first.At;
            var before = r.Bank.Client.At(r.InjectedAt);
            r.FirstApprovedBy = first.ApprovedBy.First(p => p.Key != notBy && p.Value > before.ApprovedByServer(p.Key)).Key;
            said.Add((r, $"first approval by {r.FirstApprovedBy} at {DemoClock.Format(first.At)}"));
        }
    }
}
