using System.Diagnostics;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using ConnectionStatus = OrleansControl.GrainInterfaces.Models.ConnectionStatus;

namespace OrleansControl.Benchmarks.Failover.DataPath;

// What a trial reads off the load, the link and the registry to time its steps.
internal sealed partial class DataPathRig
{
    /// <summary>The last quarter second of ended transactions were all approved by <paramref name="serverId"/>.</summary>
    private bool RecentlyApproved(string serverId)
    {
        var needed = Math.Max(5, _settings.Rate / 4);
        var recent = Load.Since(Math.Max(0, Load.Count - 2 * needed)).Where(t => t.Ended).TakeLast(needed).ToList();
        return recent.Count >= needed && recent.All(t => t.Outcome == TxnOutcome.Approved && t.Server == serverId);
    }

    /// <summary>The first transaction approved by another server than the faulted one, ended after the fault.</summary>
    private async Task<Txn?> FirstApprovedElsewhere(int from, long faultAt, SchemeServerProcess faulted)
    {
        var until = Stopwatch.GetTimestamp() + (long)(StepTimeout.TotalSeconds * Stopwatch.Frequency);
        // A transaction sent shortly before the fault, queued for a session, can be the first the backup answers.
        from = Math.Max(0, from - _settings.Rate);
        while (Stopwatch.GetTimestamp() < until)
        {
            var first = Load.Since(from).Where(t => t.Outcome == TxnOutcome.Approved && t.Server != faulted.ServerId && t.EndedAt > faultAt).MinBy(t => t.EndedAt);
            if (first is not null)
                return first;
            await Task.Delay(5);
        }
        return null;
    }

    /// <summary>The last answer from the faulted server (ms after the fault; negative when it came before).</summary>
    private double? LastAnswerFrom(SchemeServerProcess faulted, int from, long faultAt) =>
        Load.Since(Math.Max(0, from)).Where(t => t.Outcome == TxnOutcome.Approved && t.Server == faulted.ServerId)
            .Select(t => (long?)t.EndedAt).Max() is { } at ? DataPathReport.Ms(faultAt, at) : null;

    /// <summary>The registry's first transition to <paramref name="to"/> at or after <paramref name="since"/> (ms after it).</summary>
    private static double? Transition(ConnectionSnapshot state, ConnectionStatus to, DateTimeOffset since) =>
        state.RecentTransitions.FirstOrDefault(t => t.To == to && t.At >= since) is { } t ? (t.At - since).TotalMilliseconds : null;

    /// <summary>
    /// When the registry first named the server the link moved to (ms after <paramref name="since"/>): the completed
    /// failover record (the controller's move, or the sidecar's own one, which the registry follows without a
    /// status transition when it was Active), else the first transition to Active.
    /// </summary>
    private static double? RegistryMoved(ConnectionSnapshot state, DateTimeOffset since) =>
        state.RecentFailovers.Where(f => f.CompletedAt is { } c && c >= since).Select(f => (double?)(f.CompletedAt!.Value - since).TotalMilliseconds).Min()
        ?? Transition(state, ConnectionStatus.Active, since);

    /// <summary>
    /// The link's state changes (and, with a null change, its echo-miss suspicions) with Stopwatch timestamps; the
    /// handlers run on the thread that raised them.
    /// </summary>
    private sealed class LinkEvents
    {
        private readonly List<(long At, ConnectionStateChanged? Change)> _events = [];
        private readonly Lock _lock = new();

        public LinkEvents(IsoClient link) => link.StateChanged += Add;

        public void Add(ConnectionStateChanged? change)
        {
            var at = Stopwatch.GetTimestamp();
            lock (_lock) _events.Add((at, change));
        }

        public double? FirstAfter(long since, Func<ConnectionStateChanged, bool> match) =>
            First(since, e => e is not null && match(e));

        public double? FirstSuspicionAfter(long since) => First(since, e => e is null);

        /// <summary>The Stopwatch timestamp of the first echo-miss suspicion at or after <paramref name="since"/>, or null.</summary>
        public long? FirstSuspicionAt(long since)
        {
            lock (_lock)
                return _events.Where(e => e.At >= since && e.Change is null).Select(e => (long?)e.At).FirstOrDefault();
        }

        private double? First(long since, Func<ConnectionStateChanged?, bool> match)
        {
            lock (_lock)
            {
                foreach (var (at, change) in _events)
                {
                    if (at >= since && match(change))
                        return DataPathReport.Ms(since, at);
                }
            }
            return null;
        }
    }
}
