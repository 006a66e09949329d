using OrleansControl.Demo.Observation;
using OrleansControl.Demo.Processes;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace OrleansControl.Demo.Display;

/// <summary>
/// The live picture, redrawn about twice a second: a header (what runs, what the demo is doing), the connections
/// (registry entry, link, traffic), the pool's servers, the fault timeline and the last few events.
/// </summary>
internal sealed class Screen(Installation installation, Observer observer, Timeline timeline, Func<string> phase, string topology)
{
    private const int EventLines = 8;

    public IRenderable Render()
    {
        var snapshot = observer.Latest;
        var header = new Markup(
            $"[bold]OrleansControl demo[/]  {Markup.Escape(topology)}  [grey]t={DemoClock.Format(installation.Clock.Now)}[/]  " +
            $"[yellow]{Markup.Escape(phase())}[/]{(snapshot.ControllerAnswers ? "" : "  [red]controller not answering[/]")}");
        return new Rows(header, Connections(snapshot), Servers(snapshot), TimelineTable(timeline.Records), Events());
    }

    /// <summary>One line per connection, for plain (redirected) output.</summary>
    public string PlainStatus()
    {
        var snapshot = observer.Latest;
        return string.Join(Environment.NewLine, installation.Banks.Select(bank =>
        {
            var entry = snapshot.Entry(bank.ConnectionId);
            var link = snapshot.Sidecars.GetValueOrDefault(bank.Sidecar.SidecarId);
            var t = bank.Client.Latest;
            return $"  {bank.ConnectionId}: {entry?.Status ?? "-"} on {entry?.ServerId ?? "-"}, link {link?.LinkState ?? "?"}, " +
                $"{bank.Client.ApprovalRate():0} tx/s, approved={t.Approved} declined={t.Declined} not-sent={t.Unavailable} unknown-fate={t.Timeouts}";
        }));
    }

    public static Table TimelineTable(IReadOnlyList<FaultRecord> records)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]fault timeline[/] (times since start; in brackets: after injection)")
            .AddColumns("fault", "connection", "injected", "registry shows it", "ACTIVE again", "first approved");
        foreach (var r in records)
        {
            table.AddRow(
                new Text(r.Description),
                new Text(r.Connection),
                new Text(DemoClock.Format(r.InjectedAt)),
                r is { Kind: FaultKind.Link, DetectedAt: null, ClosedAt: not null } ? new Markup("[grey]registries never differed[/]")
                    : At(r.InjectedAt, r.DetectedAt, r.DetectedAs is null ? "" : Shorten(r.DetectedAs, 48)),
                At(r.InjectedAt, r.ActiveAt, r.ActiveOn is null ? "" : $"on {r.ActiveOn}"),
                At(r.InjectedAt, r.FirstApprovedAt, r.FirstApprovedBy is null ? "" : $"by {r.FirstApprovedBy}"));
        }

        if (records.Count == 0)
        {
            table.AddRow("[grey]no fault yet[/]", "", "", "", "", "");
        }

        return table;
    }

    private Table Connections(Snapshot snapshot)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]connections[/] (registry | link | bank client)")
            .AddColumns("connection", "server", "status", "detail", "link", "tx/s", "approved", "declined", "not sent", "unknown fate", "lost", "refused");
        foreach (var bank in installation.Banks)
        {
            var entry = snapshot.Entry(bank.ConnectionId);
            var link = snapshot.Sidecars.GetValueOrDefault(bank.Sidecar.SidecarId);
            var traffic = bank.Client.Latest;
            table.AddRow(
                new Text(bank.ConnectionId),
                new Text(entry?.ServerId ?? "-"),
                Status(entry?.Status),
                new Text(Shorten(entry?.StatusDetail ?? (snapshot.ControllerAnswers ? "not registered" : "?"), 46)),
                new Markup(link is null ? "[red]?[/]" : $"{Markup.Escape(link.LinkState)}{(link.ControllerAttached ? "" : " [red](detached)[/]")}"),
                new Text($"{bank.Client.ApprovalRate():0}"),
                new Markup($"[green]{traffic.Approved}[/]"),
                Count(traffic.Declined),
                Count(traffic.Unavailable),
                Count(traffic.Timeouts),
                Count(traffic.Lost),
                Count(traffic.Refused));
        }

        return table;
    }

    private Table Servers(Snapshot snapshot)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]pool '{Installation.Pool}'[/]")
            .AddColumns("server", "zone", "address", "process", "healthy", "suspect", "ejected until", "load", "approvals/s");
        foreach (var server in installation.Servers)
        {
            var declared = snapshot.Pool?.FirstOrDefault(p => p.ServerId == server.ServerId);
            var rate = installation.Banks.Sum(b => b.Client.ApprovalRate(server.ServerId));
            table.AddRow(
                new Text(server.ServerId),
                new Text(server.Zone),
                new Text(server.Address),
                new Markup(server.HasExited ? "[red]killed[/]" : $"pid {server.Pid}"),
                new Markup(declared is null ? "[grey]?[/]" : declared.Healthy ? "[green]yes[/]" : "[red]no[/]"),
                new Markup(declared is { Suspect: true } ? $"[red]yes[/] {Markup.Escape(Shorten(declared.HealthDetail, 30))}" : "no"),
                new Text(declared?.EjectedUntil is { } until ? until.ToLocalTime().ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "-"),
                new Text(declared?.Load.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"),
                new Text($"{rate:0}"));
        }

        return table;
    }

    private Panel Events()
    {
        var lines = timeline.Events.TakeLast(EventLines).Select(e => $"[grey]{DemoClock.Format(e.At)}[/] {Markup.Escape(e.Text)}");
        return new Panel(new Markup(string.Join(Environment.NewLine, lines.DefaultIfEmpty("[grey]…[/]")))).Header("events").Expand();
    }

    private static Markup At(TimeSpan injected, TimeSpan? at, string what) => at is { } t
        ? new Markup($"{DemoClock.Format(t)} [grey]({DemoClock.Delta(injected, t)})[/] {Markup.Escape(what)}")
        : new Markup("[grey]…[/]");

    private static Markup Status(string? status) => new(status switch
    {
        null => "[grey]-[/]",
        "ACTIVE" => "[green]ACTIVE[/]",
        "DEGRADED" or "MIGRATING" or "REQUESTED" => $"[yellow]{status}[/]",
        _ => $"[red]{Markup.Escape(status)}[/]",
    });

    private static Markup Count(long n) => new(n == 0 ? "0" : $"[red]{n}[/]");

    internal static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
