using OrleansControl.Demo.Observation;
using OrleansControl.Demo.Processes;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace OrleansControl.Demo.Display;

/// <summary>What a run ends with: detection and recovery per fault, the transactions' outcomes (during each fault and
/// in all), and whether the registry agrees with where each link really is.</summary>
internal static class Summary
{
    public static Table Faults(IReadOnlyList<FaultRecord> records)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]per fault[/] (after injection; outcomes of the 0200s from injection to recovery + 1 s)")
            .AddColumns("fault", "connection", "detected", "ACTIVE again", "first approved", "approved", "declined", "not sent", "unknown fate", "lost", "refused");
        foreach (var r in records)
        {
            var from = r.AtInjection;
            var to = r.AtClose ?? r.Bank.Client.Latest;
            table.AddRow(
                new Text(r.Description),
                new Text(r.Connection),
                r is { Kind: FaultKind.Link, DetectedAt: null } ? new Markup("[grey]registries never differed[/]") : After(r.InjectedAt, r.DetectedAt),
                After(r.InjectedAt, r.ActiveAt, r.ActiveOn),
                After(r.InjectedAt, r.FirstApprovedAt, r.FirstApprovedBy),
                new Markup($"[green]{to.Approved - from.Approved}[/]"),
                Count(to.Declined - from.Declined),
                Count(to.Unavailable - from.Unavailable),
                Count(to.Timeouts - from.Timeouts),
                Count(to.Lost - from.Lost),
                Count(to.Refused - from.Refused));
        }

        if (records.Count == 0)
        {
            table.AddRow("[grey]no faults injected[/]", "", "", "", "", "", "", "", "", "", "");
        }

        return table;
    }

    public static Table Totals(IReadOnlyList<(Bank Bank, TrafficSample Final)> finals, IReadOnlyDictionary<string, SidecarReversals?> reversals)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]all 0200s[/] (each bank client's own count after it stopped)")
            .AddColumns("bank client", "sent", "approved", "declined", "not sent", "unknown fate", "reversed (0430)", "reversal pending / given up",
                "late 0210s", "lost", "refused", "no outcome");
        foreach (var (bank, f) in finals)
        {
            var r = reversals.GetValueOrDefault(bank.ClientId);
            table.AddRow(new Text(bank.ClientId), new Text($"{f.Sent}"), new Markup($"[green]{f.Approved}[/]"), Count(f.Declined),
                Count(f.Unavailable), Count(f.Timeouts),
                r is null ? new Text("?") : new Markup(r.Acknowledged >= f.Timeouts ? $"[green]{r.Acknowledged}[/]" : $"[red]{r.Acknowledged}[/]"),
                r is null ? new Text("?") : Count(r.Pending + r.GivenUp),
                r is null ? new Text("?") : new Text($"{r.LateResponses}"),
                Count(f.Lost), Count(f.Refused), Count(f.Unaccounted));
        }

        return table;
    }

    /// <summary>
    /// What the run must not end with, in words (the demo then exits 4): a 0200 lost or without an outcome, an unknown
    /// fate not reversed, a registry that disagrees with the link.
    /// </summary>
    public static IReadOnlyList<string> Failures(Installation installation, IReadOnlyList<(Bank Bank, TrafficSample Final)> finals,
        IReadOnlyDictionary<string, SidecarReversals?> reversals, Snapshot snapshot)
    {
        var failures = new List<string>();
        foreach (var (bank, f) in finals)
        {
            if (f.Lost > 0) failures.Add($"{bank.ClientId}: {f.Lost} 0200(s) lost");
            if (f.Unaccounted > 0) failures.Add($"{bank.ClientId}: {f.Unaccounted} 0200(s) without an outcome");
            var r = reversals.GetValueOrDefault(bank.ClientId);
            if (f.Timeouts > 0 && (r is null || r.Acknowledged < f.Timeouts))
            {
                failures.Add($"{bank.ClientId}: {(r is null ? "?" : $"{r.Acknowledged}")} of {f.Timeouts} unknown-fate 0200s reversed and acknowledged");
            }
        }

        foreach (var bank in installation.Banks.Where(b => !(snapshot.Agrees(b) && snapshot.RegistriesAgree(b.ConnectionId))))
        {
            failures.Add($"{bank.ConnectionId}: the registr{(installation.Regions.Two ? "ies do" : "y does")} not agree with the link at the end");
        }

        return failures;
    }

    public static Table Agreement(Installation installation, Snapshot snapshot)
    {
        var two = installation.Regions.Two;
        var table = new Table().Border(TableBorder.Rounded).Title(two ? "[bold]registries vs. link[/] (at the end)" : "[bold]registry vs. link[/] (at the end)")
            .AddColumns(two
                ? ["connection", "bank registry", "scheme's copy", "link signed on at", "agree", "note"]
                : ["connection", "registry", "link signed on at", "agree"]);
        foreach (var bank in installation.Banks)
        {
            var entry = snapshot.Entry(bank.ConnectionId);
            var link = snapshot.Sidecars.GetValueOrDefault(bank.Sidecar.SidecarId);
            var linkServer = installation.Servers.FirstOrDefault(s => link?.IsSignedOnAt(s.Address) == true)?.ServerId;
            var agree = snapshot.Agrees(bank) && snapshot.RegistriesAgree(bank.ConnectionId);
            var cells = new List<IRenderable>
            {
                new Text(bank.ConnectionId),
                new Text(entry is null ? "not registered" : $"v{entry.Version} {entry.Status} on {entry.ServerId ?? "-"}"),
            };
            if (two)
            {
                var copy = snapshot.Replica?.GetValueOrDefault(bank.ConnectionId);
                cells.Add(new Text(copy is null ? "none" : $"v{copy.Version} {copy.Status} on {copy.ServerId ?? "-"}"));
            }

            cells.Add(new Text(link is null ? "?" : $"{link.LinkState} {linkServer ?? link.LinkEndpoint ?? "-"}"));
            cells.Add(new Markup(agree ? "[green]yes[/]" : "[red]no[/]"));
            if (two)
            {
                var lag = snapshot.Lag(bank.ConnectionId);
                cells.Add(new Markup(lag.Length == 0 ? "" : $"[yellow]{Markup.Escape(lag)}[/]"));
            }

            table.AddRow(cells);
        }

        return table;
    }

    private static Markup After(TimeSpan injected, TimeSpan? at, string? what = null) => at is { } t
        ? new Markup($"{DemoClock.Delta(injected, t)}{(what is null ? "" : $" [grey]{Markup.Escape(what)}[/]")}")
        : new Markup("[red]not seen[/]");

    private static Markup Count(long n) => new(n == 0 ? "0" : $"[red]{n}[/]");
}
