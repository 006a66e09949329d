using System.Diagnostics;
using System.Globalization;
using OrleansControl.Sidecar;
using OrleansControl.Sidecar.Reversals;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>One step of a trial and when it happened (ms after the trial's origin; null: not seen).</summary>
internal readonly record struct TrialStep(string What, double? Ms);

/// <summary>
/// One trial: the fault, the server faulted, the one the link ended on, and when each step happened after the fault
/// (<see cref="Steps"/>; <see cref="RestartSteps"/> after the controller was started again). A trial runs from
/// <see cref="StartedAt"/> (Stopwatch timestamp; its first transaction is <see cref="FirstTxn"/>) to the next trial's start.
/// </summary>
internal sealed record DataPathTrial(int Number, string Fault, string Faulted, string? Backup, long StartedAt, long FaultAt, int FirstTxn)
{
    public double? FirstApprovedMs { get; init; }

    public IReadOnlyList<TrialStep> Steps { get; init; } = [];

    public IReadOnlyList<TrialStep> RestartSteps { get; init; } = [];

    /// <summary>Who moved the link (the sidecar on its own, or the controller).</summary>
    public string? Note { get; init; }

    public bool Reinstated { get; init; }

    /// <summary>The link's reversal counters when the trial started (<see cref="DataPathRig.Reversals"/>).</summary>
    public ReversalStatus? Reversals { get; init; }

    /// <summary>When every transaction sent so far had ended and every reversal was acknowledged (ms after the fault); null: not within the settle time.</summary>
    public double? SettledMs { get; init; }

    /// <summary>
    /// When the link itself could first know of the fault (Stopwatch timestamp): the first echo miss after a black
    /// hole. Null where the fault announces itself (kill: RST/FIN) or where it was never seen.
    /// </summary>
    public long? DetectedAt { get; init; }
}

/// <summary>What a trial's reversals did, from the link's counters (<see cref="ReversalStatus"/>) between two snapshots.</summary>
internal readonly record struct ReversalCounts(long Queued, long Sent, long Acknowledged, long GivenUp, long Late)
{
    public static ReversalCounts Between(ReversalStatus? from, ReversalStatus? to) => from is null || to is null ? default : new(
        to.Queued - from.Queued, to.Sent - from.Sent, to.Acknowledged - from.Acknowledged, to.GivenUp - from.GivenUp, to.LateResponses - from.LateResponses);

    public static ReversalCounts operator +(ReversalCounts a, ReversalCounts b) =>
        new(a.Queued + b.Queued, a.Sent + b.Sent, a.Acknowledged + b.Acknowledged, a.GivenUp + b.GivenUp, a.Late + b.Late);

    public override string ToString() =>
        $"reversals {Queued} queued, {Sent} sent (0420 + 0421 repeats), {Acknowledged} acknowledged (0430), {GivenUp} given up; {Late} late 0210s after a reversal";
}

/// <summary>
/// Whether a trial's unknown-fate 0200s were all settled: each must carry the id of the reversal the link queued
/// (<see cref="Txn.ReversalId"/>) and that reversal must have been acknowledged (<see cref="ReversalLog"/>) within
/// <c>settle</c> of the fault or of the moment its fate became unknown, whichever is later.
/// </summary>
/// <remarks><see cref="AckMs"/>: for each acknowledged one, ms from its reversal queued (journaled, the moment the fate became unknown) to its 0430.</remarks>
internal readonly record struct ReversalCheck(int UnknownFate, int Acknowledged, int NotQueued, int GivenUp, int Unacknowledged, int AcknowledgedLate,
    IReadOnlyList<double> AckMs)
{
    public int Unsettled => UnknownFate - Acknowledged;

    public string Percentile(double q) => AckMs is { Count: > 0 } ms ? DataPathReport.Percentile([.. ms], q).ToString("F0", CultureInfo.InvariantCulture) : "-";

    public static ReversalCheck Of(IReadOnlyList<Txn> txns, long faultAt, ReversalLog log, TimeSpan settle)
    {
        var ticks = (long)(settle.TotalSeconds * Stopwatch.Frequency);
        int unknown = 0, acknowledged = 0, notQueued = 0, givenUp = 0, unacknowledged = 0, late = 0;
        var ackMs = new List<double>();
        foreach (var t in txns.Where(t => t.Outcome == TxnOutcome.FateUnknown))
        {
            unknown++;
            if (t.ReversalId is not { } id)
                notQueued++;
            else if (log.AcknowledgedAt(id) is not { } at)
                _ = log.WasGivenUp(id) ? givenUp++ : unacknowledged++;
            else
            {
                ackMs.Add(DataPathReport.Ms(log.QueuedAt(id) ?? t.EndedAt, at));
                _ = at > Math.Max(faultAt, t.EndedAt) + ticks ? late++ : acknowledged++;
            }
        }
        return new(unknown, acknowledged, notQueued, givenUp, unacknowledged, late, ackMs);
    }

    public static ReversalCheck operator +(ReversalCheck a, ReversalCheck b) => new(a.UnknownFate + b.UnknownFate, a.Acknowledged + b.Acknowledged,
        a.NotQueued + b.NotQueued, a.GivenUp + b.GivenUp, a.Unacknowledged + b.Unacknowledged, a.AcknowledgedLate + b.AcknowledgedLate,
        [.. a.AckMs ?? [], .. b.AckMs ?? []]);

    /// <summary>Reversal queued → 0430, over the acknowledged ones.</summary>
    public string AckTimes => AckMs is not { Count: > 0 } ms ? "none" : DataPathReport.Stats([.. ms]);

    public override string ToString() => Unsettled == 0
        ? $"{Acknowledged} of {UnknownFate} unknown-fate 0200s reversed and acknowledged"
        : $"{Acknowledged} of {UnknownFate} unknown-fate 0200s reversed and acknowledged: {NotQueued} not queued, {GivenUp} given up, " +
          $"{Unacknowledged} never acknowledged, {AcknowledgedLate} acknowledged after the settle time";
}

/// <summary>
/// What a scenario promises: first approved on the backup within <see cref="Ms"/> at p99. <see cref="LiesNote"/> says
/// how to read the registry disagreements where the scenario makes some unavoidable.
/// </summary>
internal sealed record RecoveryTarget(double Ms, string Why, string? LiesNote = null);

/// <summary>Prints the trials and the summary: percentiles, outcome counts, registry disagreements, targets.</summary>
internal static class DataPathReport
{
    public static void PrintTrial(DataPathTrial t, IReadOnlyList<Txn> txns, IReadOnlyList<RegistryLie> lies, ReversalCounts reversals, ReversalCheck check)
    {
        var c = Count(txns);
        var longest = lies.Count == 0 ? "none" : $"{lies.Max(l => l.Ms):F0} ms raw, {lies.Max(l => l.MsFrom(t.DetectedAt)):F0} ms from detection";
        var restart = t.RestartSteps.Count == 0 ? "" : $" | controller stop and restart: {string.Join(", ", t.RestartSteps.Select(s => $"{s.What} {F(s.Ms)}"))}";
        Console.WriteLine(
            $"  trial {t.Number,2}: {t.Fault} -> {t.Backup ?? "?"}: first approved {F(t.FirstApprovedMs)} ms " +
            $"| {string.Join(", ", t.Steps.Select(s => $"{s.What} {F(s.Ms)}"))}{restart} " +
            $"| {txns.Count} txns: {c.Approved} approved, {c.Declined} declined, {c.NotSent} not sent, {c.UnknownFate} unknown fate " +
            $"({c.Timeout} timeout, {c.ConnectionLost} connection lost), {c.Lost} lost " +
            $"| {reversals} | {check}{(check.Unsettled == 0 ? "" : " (FAILED)")}, queued -> 0430 p50 {check.Percentile(0.5)} / max {check.Percentile(1)} ms " +
            $"| registry lies {lies.Count} (longest {longest}){(t.Note is null ? "" : $" | {t.Note}")}{(t.Reinstated ? " | reinstated by operator" : "")}");
    }

    /// <summary>Prints the summary; false when a transaction was lost or an unknown-fate 0200 was not reversed and acknowledged.</summary>
    public static bool PrintSummary(IReadOnlyList<DataPathTrial> trials, IReadOnlyList<Txn[]> perTrial, Txn[] all, IReadOnlyList<(RegistryLie Lie, long? DetectedAt)> lies,
        RegistryWatch watch, int pollMs, RecoveryTarget target, ReversalCounts reversals, ReversalCheck check, TimeSpan settle, long unreadableLogEvents)
    {
        Console.WriteLine();
        var recovered = trials.Where(t => t.FirstApprovedMs is not null).Select(t => t.FirstApprovedMs!.Value).ToList();
        Console.WriteLine($"fault -> first approved 0210 from the backup: {Stats(recovered)} ({trials.Count - recovered.Count} trials never recovered)");
        PrintSteps("after the fault, p50 / p99 / max (ms):", trials.Select(t => t.Steps).ToList());
        PrintSteps("the controller's stop (ms from the stop) and restart (ms from the restart), p50 / p99 / max:", trials.Select(t => t.RestartSteps).ToList());
        foreach (var who in trials.GroupBy(t => t.Note ?? "?"))
            Console.WriteLine($"  {who.Key}: {who.Count()} trials");

        var total = Count(all);
        Console.WriteLine($"transactions (counted trials): {all.Length} sent: {total.Approved} approved, {total.Declined} declined, " +
            $"{total.NotSent} not sent, {total.UnknownFate} unknown fate ({total.Timeout} timeout, {total.ConnectionLost} connection lost), " +
            $"{total.Lost} lost (no outcome at all, or an unexpected error)");
        if (total.Declined > 0)
            Console.WriteLine($"  declined by code: {string.Join(", ", all.Where(t => t.Outcome == TxnOutcome.Declined).GroupBy(t => t.Code ?? "none").Select(g => $"{g.Key}: {g.Count()}"))}");
        var unknown = perTrial.Select(t => (double)Count(t).UnknownFate).ToList();
        if (unknown.Count > 0)
            Console.WriteLine($"  unknown fate per trial: p50 {Percentile(unknown, 0.5):F0}, max {unknown.Max():F0}, total {unknown.Sum():F0} over {unknown.Count} trials");
        Console.WriteLine($"reversals (the link's counters, counted trials): {reversals}");
        Console.WriteLine($"  {check} within {settle.TotalSeconds:F0} s of the fault or of the fate becoming unknown, whichever is later " +
            "(per 0200: the reversal id the link returned, acknowledged in the link's log)");
        Console.WriteLine($"  fate unknown (reversal queued, the link's log) -> its 0430: {check.AckTimes}");
        if (reversals.Queued != check.UnknownFate - check.NotQueued)
            Console.WriteLine($"  note: the link counted {reversals.Queued} reversals queued for {check.UnknownFate - check.NotQueued} unknown-fate 0200s carrying one");

        var raw = lies.Select(l => l.Lie.Ms).ToList();
        var fromDetection = lies.Select(l => l.Lie.MsFrom(l.DetectedAt)).Where(ms => ms > 0).ToList();
        var over1sRaw = raw.Count(ms => ms > 1000);
        var over1s = fromDetection.Count(ms => ms > 1000);
        Console.WriteLine($"registry vs link: {watch.Samples} observations every {pollMs} ms ({watch.FailedQueries} queries failed); in the counted trials {lies.Count} intervals of ACTIVE on a server the link " +
            $"was not signed on at or that was dead");
        if (lies.Count > 0)
        {
            var longest = lies.MaxBy(l => l.Lie.MsFrom(l.DetectedAt));
            Console.WriteLine($"  raw, from the fault (a black-holed server counts as dead from the tc command, before anything can see it): {Stats(raw)}, > 1 s: {over1sRaw}");
            Console.WriteLine($"  from detection (a black hole's disagreement counted from the link's first echo miss, when the link itself could know; " +
                $"every other one as raw): {Stats(fromDetection)}, > 1 s: {over1s}; longest " +
                $"{longest.Lie.MsFrom(longest.DetectedAt):F0} ms (ACTIVE on {longest.Lie.Claimed}, link at {longest.Lie.LinkAt ?? "nothing"}{(longest.Lie.ClaimedServerDead ? ", server dead" : "")})");
            Console.WriteLine($"  (upper bounds, resolution ≈ {pollMs} ms)");
        }

        var p99 = recovered.Count == 0 ? double.NaN : Percentile(recovered, 0.99);
        var missing = trials.Count - recovered.Count;
        Console.WriteLine(p99 <= target.Ms && missing == 0
            ? $"target p99 <= {target.Ms:F0} ms fault -> first approved on the backup ({target.Why}): met ({p99:F1} ms)"
            : $"target p99 <= {target.Ms:F0} ms fault -> first approved on the backup ({target.Why}): MISSED by {p99 - target.Ms:F1} ms ({p99:F1} ms, {missing} never recovered)");
        Console.WriteLine(total.Lost == 0 ? "target 0 lost: met" : $"target 0 lost: MISSED ({total.Lost})");
        Console.WriteLine(check.Unsettled == 0 && unreadableLogEvents == 0
            ? $"target every unknown-fate 0200 reversed and acknowledged: met ({check.Acknowledged} of {check.UnknownFate})"
            : $"target every unknown-fate 0200 reversed and acknowledged: MISSED ({check}{(unreadableLogEvents > 0 ? $"; {unreadableLogEvents} reversal log events unreadable" : "")})");
        Console.WriteLine((over1s == 0 ? "target 0 registry disagreements > 1 s (from detection): met" : $"target 0 registry disagreements > 1 s (from detection): MISSED ({over1s})") +
            $" (raw from the fault: {over1sRaw} > 1 s)" + (target.LiesNote is null ? "" : $" ({target.LiesNote})"));

        var ok = total.Lost == 0 && check.Unsettled == 0 && unreadableLogEvents == 0;
        if (!ok)
            Console.WriteLine($"FAILED: {total.Lost} transactions lost, {check.Unsettled} unknown-fate 0200s not reversed and acknowledged within the settle time" +
                (unreadableLogEvents > 0 ? $", {unreadableLogEvents} reversal log events unreadable" : ""));
        return ok;
    }

    public static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    /// <summary>Each step by name, in the order the first trial has them.</summary>
    private static void PrintSteps(string title, IReadOnlyList<IReadOnlyList<TrialStep>> trials)
    {
        var names = trials.SelectMany(t => t.Select(s => s.What)).Distinct().ToList();
        if (names.Count == 0)
            return;
        Console.WriteLine($"  {title}");
        foreach (var name in names)
        {
            var seen = trials.SelectMany(t => t.Where(s => s.What == name && s.Ms is not null).Select(s => s.Ms!.Value)).ToList();
            Console.WriteLine(seen.Count == 0
                ? $"    {name,-48} not seen"
                : $"    {name,-48} {Percentile(seen, 0.5),9:F1} / {Percentile(seen, 0.99),9:F1} / {seen.Max(),9:F1}  (n={seen.Count})");
        }
    }

    public static string Stats(List<double> ms) => ms.Count == 0
        ? "n=0"
        : $"n={ms.Count} min {ms.Min():F1} ms, p50 {Percentile(ms, 0.5):F1} ms, p99 {Percentile(ms, 0.99):F1} ms, max {ms.Max():F1} ms";

    /// <summary>Nearest rank: with n = 20 the p99 is the maximum.</summary>
    public static double Percentile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static string F(double? ms) => ms is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) : "-";

    private static Counts Count(IReadOnlyList<Txn> txns) => new(
        txns.Count(t => t.Outcome == TxnOutcome.Approved),
        txns.Count(t => t.Outcome == TxnOutcome.Declined),
        txns.Count(t => t.Outcome == TxnOutcome.NotSent),
        txns.Count(t => t.Outcome == TxnOutcome.FateUnknown),
        txns.Count(t => t.Outcome == TxnOutcome.FateUnknown && t.Error == SidecarError.Timeout),
        txns.Count(t => t.Outcome == TxnOutcome.FateUnknown && t.Error == SidecarError.ConnectionLost),
        txns.Count(t => t.Outcome is TxnOutcome.Other or TxnOutcome.Pending));

    /// <summary>
    /// Unknown fate: what the library said (<see cref="RequestOutcome.FateUnknown"/>: written, then no answer), with
    /// its error (timeout, or the session went down after the write). Lost: the
    /// application never got an outcome at all (still pending after every timeout has passed) or an error the
    /// client does not document, which is what this harness can tell of a transaction gone missing.
    /// </summary>
    private readonly record struct Counts(int Approved, int Declined, int NotSent, int UnknownFate, int Timeout, int ConnectionLost, int Lost);
}
