using System.Diagnostics;
using System.Globalization;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>
/// One trial: the server killed, the one the link ended on, and when each step happened after the kill (ms; null:
/// not seen). A trial runs from <see cref="StartedAt"/> (Stopwatch timestamp; its first transaction is
/// <see cref="FirstTxn"/>) to the next trial's start.
/// </summary>
internal sealed record DataPathTrial(int Number, string Killed, string? Backup, long StartedAt, long KillAt, int FirstTxn)
{
    public double? LinkDownMs { get; init; }

    public double? RegistryFailedMs { get; init; }

    public double? RegistryMigratingMs { get; init; }

    public double? LinkConnectingToBackupMs { get; init; }

    public double? LinkSignedOnMs { get; init; }

    public double? RegistryActiveMs { get; init; }

    public double? FirstApprovedMs { get; init; }

    public bool Reinstated { get; init; }
}

/// <summary>Prints the trials and the summary: percentiles, outcome counts, registry disagreements, targets.</summary>
internal static class DataPathReport
{
    public static void PrintTrial(DataPathTrial t, IReadOnlyList<Txn> txns, IReadOnlyList<RegistryLie> lies)
    {
        var c = Count(txns);
        var longest = lies.Count == 0 ? "none" : $"{lies.Max(l => l.Ms):F0} ms";
        Console.WriteLine(
            $"  trial {t.Number,2}: kill {t.Killed} -> {t.Backup ?? "?"}: first approved {F(t.FirstApprovedMs)} ms " +
            $"| link down {F(t.LinkDownMs)}, Failed {F(t.RegistryFailedMs)}, Migrating {F(t.RegistryMigratingMs)}, " +
            $"connecting to backup {F(t.LinkConnectingToBackupMs)}, signed on {F(t.LinkSignedOnMs)}, Active {F(t.RegistryActiveMs)} " +
            $"| {txns.Count} txns: {c.Approved} approved, {c.Declined} declined, {c.Timeout} timeout, {c.Lost} lost, {c.NotSent} not sent, {c.Other} other " +
            $"| registry lies {lies.Count} (longest {longest}){(t.Reinstated ? " | reinstated by operator" : "")}");
    }

    public static void PrintSummary(IReadOnlyList<DataPathTrial> trials, IReadOnlyList<Txn[]> perTrial, Txn[] all, RegistryLie[] lies, RegistryWatch watch, int pollMs)
    {
        Console.WriteLine();
        var recovered = trials.Where(t => t.FirstApprovedMs is not null).Select(t => t.FirstApprovedMs!.Value).ToList();
        Console.WriteLine($"kill -9 -> first approved 0210 from the backup: {Stats(recovered)} ({trials.Count - recovered.Count} trials never recovered)");
        Console.WriteLine("  after the kill, p50 / max (ms):");
        Step("sidecar sees the link down", trials.Select(t => t.LinkDownMs));
        Step("registry Failed", trials.Select(t => t.RegistryFailedMs));
        Step("registry Migrating (command queued)", trials.Select(t => t.RegistryMigratingMs));
        Step("link connecting to the backup (command in)", trials.Select(t => t.LinkConnectingToBackupMs));
        Step("link signed on at the backup", trials.Select(t => t.LinkSignedOnMs));
        Step("registry Active on the backup", trials.Select(t => t.RegistryActiveMs));
        Step("first approved from the backup", trials.Select(t => t.FirstApprovedMs));

        var total = Count(all);
        var indefinite = perTrial.Select(t => Count(t).Indefinite).ToList();
        Console.WriteLine($"transactions (counted trials): {all.Length} sent: {total.Approved} approved, {total.Declined} declined, " +
            $"{total.Indefinite} without a definite outcome ({total.Timeout} timeout, {total.Lost} lost, {total.Other} other), {total.NotSent} not sent");
        if (total.Declined > 0)
            Console.WriteLine($"  declined by code: {string.Join(", ", all.Where(t => t.Outcome == TxnOutcome.Declined).GroupBy(t => t.Code ?? "none").Select(g => $"{g.Key}: {g.Count()}"))}");
        if (indefinite.Count > 0)
            Console.WriteLine($"  without a definite outcome per trial: p50 {Percentile(indefinite.Select(i => (double)i).ToList(), 0.5):F0}, " +
                $"max {indefinite.Max()}, total {indefinite.Sum()} over {indefinite.Count} trials");

        var over1s = lies.Count(l => l.Ms > 1000);
        var longest = lies.MaxBy(l => l.Ms);
        Console.WriteLine($"registry vs link: {watch.Samples} observations every {pollMs} ms ({watch.FailedQueries} queries failed); in the counted trials {lies.Length} intervals of ACTIVE on a server the link " +
            $"was not signed on at or that was dead; longest {(longest is null ? "none" : $"{longest.Ms:F0} ms (ACTIVE on {longest.Claimed}, link at {longest.LinkAt ?? "nothing"}{(longest.ClaimedServerDead ? ", server dead" : "")})")}; " +
            $"> 1 s: {over1s}");
        if (lies.Length > 0)
            Console.WriteLine($"  disagreement lengths (upper bounds, resolution ≈ {pollMs} ms): {Stats(lies.Select(l => l.Ms).ToList())}");

        var p99 = recovered.Count == 0 ? double.NaN : Percentile(recovered, 0.99);
        Console.WriteLine(p99 <= 100
            ? $"target p99 <= 100 ms kill -> first approved on the backup: met ({p99:F1} ms)"
            : $"target p99 <= 100 ms kill -> first approved on the backup: MISSED by {p99 - 100:F1} ms ({p99:F1} ms)");
        Console.WriteLine(over1s == 0 ? "target 0 registry disagreements > 1 s: met" : $"target 0 registry disagreements > 1 s: MISSED ({over1s})");
    }

    public static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    private static void Step(string what, IEnumerable<double?> values)
    {
        var seen = values.Where(v => v is not null).Select(v => v!.Value).ToList();
        Console.WriteLine(seen.Count == 0
            ? $"    {what,-44} not seen"
            : $"    {what,-44} {Percentile(seen, 0.5),8:F1} / {seen.Max(),8:F1}  (n={seen.Count})");
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
        txns.Count(t => t.Outcome == TxnOutcome.Timeout),
        txns.Count(t => t.Outcome == TxnOutcome.Lost),
        txns.Count(t => t.Outcome == TxnOutcome.NotSent),
        txns.Count(t => t.Outcome is TxnOutcome.Other or TxnOutcome.Pending));

    private readonly record struct Counts(int Approved, int Declined, int Timeout, int Lost, int NotSent, int Other)
    {
        public int Indefinite => Timeout + Lost + Other;
    }
}
