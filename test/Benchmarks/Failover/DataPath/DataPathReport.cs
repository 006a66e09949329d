using System.Diagnostics;
using System.Globalization;

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
}

/// <summary>
/// What a scenario promises: first approved on the backup within <see cref="Ms"/> at p99. <see cref="LiesNote"/> says
/// how to read the registry disagreements where the scenario makes some unavoidable.
/// </summary>
internal sealed record RecoveryTarget(double Ms, string Why, string? LiesNote = null);

/// <summary>Prints the trials and the summary: percentiles, outcome counts, registry disagreements, targets.</summary>
internal static class DataPathReport
{
    public static void PrintTrial(DataPathTrial t, IReadOnlyList<Txn> txns, IReadOnlyList<RegistryLie> lies)
    {
        var c = Count(txns);
        var longest = lies.Count == 0 ? "none" : $"{lies.Max(l => l.Ms):F0} ms";
        var restart = t.RestartSteps.Count == 0 ? "" : $" | controller stop and restart: {string.Join(", ", t.RestartSteps.Select(s => $"{s.What} {F(s.Ms)}"))}";
        Console.WriteLine(
            $"  trial {t.Number,2}: {t.Fault} -> {t.Backup ?? "?"}: first approved {F(t.FirstApprovedMs)} ms " +
            $"| {string.Join(", ", t.Steps.Select(s => $"{s.What} {F(s.Ms)}"))}{restart} " +
            $"| {txns.Count} txns: {c.Approved} approved, {c.Declined} declined, {c.NotSent} not sent, {c.UnknownFate} unknown fate " +
            $"({c.Timeout} timeout, {c.ConnectionLost} connection lost), {c.Lost} lost " +
            $"| registry lies {lies.Count} (longest {longest}){(t.Note is null ? "" : $" | {t.Note}")}{(t.Reinstated ? " | reinstated by operator" : "")}");
    }

    public static void PrintSummary(IReadOnlyList<DataPathTrial> trials, IReadOnlyList<Txn[]> perTrial, Txn[] all, RegistryLie[] lies,
        RegistryWatch watch, int pollMs, RecoveryTarget target)
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
            Console.WriteLine($"  unknown fate per trial: p50 {Percentile(unknown, 0.5):F0}, max {unknown.Max():F0}, total {unknown.Sum():F0} over {unknown.Count} trials " +
                "(no reversals on this branch: each of them would need a 0420)");

        var over1s = lies.Count(l => l.Ms > 1000);
        var longest = lies.MaxBy(l => l.Ms);
        Console.WriteLine($"registry vs link: {watch.Samples} observations every {pollMs} ms ({watch.FailedQueries} queries failed); in the counted trials {lies.Length} intervals of ACTIVE on a server the link " +
            $"was not signed on at or that was dead; longest {(longest is null ? "none" : $"{longest.Ms:F0} ms (ACTIVE on {longest.Claimed}, link at {longest.LinkAt ?? "nothing"}{(longest.ClaimedServerDead ? ", server dead" : "")})")}; " +
            $"> 1 s: {over1s}");
        if (lies.Length > 0)
            Console.WriteLine($"  disagreement lengths (upper bounds, resolution ≈ {pollMs} ms): {Stats(lies.Select(l => l.Ms).ToList())}");

        var p99 = recovered.Count == 0 ? double.NaN : Percentile(recovered, 0.99);
        var missing = trials.Count - recovered.Count;
        Console.WriteLine(p99 <= target.Ms && missing == 0
            ? $"target p99 <= {target.Ms:F0} ms fault -> first approved on the backup ({target.Why}): met ({p99:F1} ms)"
            : $"target p99 <= {target.Ms:F0} ms fault -> first approved on the backup ({target.Why}): MISSED by {p99 - target.Ms:F1} ms ({p99:F1} ms, {missing} never recovered)");
        Console.WriteLine(total.Lost == 0 ? "target 0 lost: met" : $"target 0 lost: MISSED ({total.Lost})");
        Console.WriteLine((over1s == 0 ? "target 0 registry disagreements > 1 s: met" : $"target 0 registry disagreements > 1 s: MISSED ({over1s})") +
            (target.LiesNote is null ? "" : $" ({target.LiesNote})"));
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

    private static string Stats(List<double> ms) => ms.Count == 0
        ? "n=0"
        : $"n={ms.Count} min {ms.Min():F1} ms, p50 {Percentile(ms, 0.5):F1} ms, p99 {Percentile(ms, 0.99):F1} ms, max {ms.Max():F1} ms";

    /// <summary>Nearest rank: with n = 20 the p99 is the maximum.</summary>
    private static double Percentile(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static string F(double? ms) => ms is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) : "-";

    private static Counts Count(IReadOnlyList<Txn> txns) => new(
        txns.Count(t => t.Outcome == TxnOutcome.Approved),
        txns.Count(t => t.Outcome == TxnOutcome.Declined),
        txns.Count(t => t.Outcome == TxnOutcome.NotSent),
        txns.Count(t => t.Outcome == TxnOutcome.Timeout),
        txns.Count(t => t.Outcome == TxnOutcome.ConnectionLost),
        txns.Count(t => t.Outcome is TxnOutcome.Other or TxnOutcome.Pending));

    /// <summary>
    /// Unknown fate: written, then no answer (timeout, or the session went down after the write). Lost: the
    /// application never got an outcome at all (still pending after every timeout has passed) or an error the
    /// client does not document, which is what this harness can tell of a transaction gone missing.
    /// </summary>
    private readonly record struct Counts(int Approved, int Declined, int NotSent, int Timeout, int ConnectionLost, int Lost)
    {
        public int UnknownFate => Timeout + ConnectionLost;
    }
}
