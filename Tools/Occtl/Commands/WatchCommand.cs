using System.CommandLine;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Gateway;
using OrleansControl.Occtl.Output;
using Spectre.Console;
using Spectre.Console.Rendering;
using Command = System.CommandLine.Command;

namespace OrleansControl.Occtl.Commands;

/// <summary>
/// <c>occtl watch</c>: a live table of connections, seeded from the listing once the stream is subscribed (so no
/// change falls between the two) and updated by each WatchConnections event; most recent change first.
/// </summary>
internal static class WatchCommand
{
    public static Command Create(CommandFactory f)
    {
        var filters = new WatchFilters();
        var command = f.Command("watch", """
            A live table of connections, updated as they change (until Ctrl-C).
            When standard output is not a terminal (or with -o json|yaml), the table is printed once and each change
            follows as one line, as 'occtl events' prints it.
            """, async (s, ct) =>
        {
            var board = new WatchBoard();
            var request = filters.Request(s);
            var stream = new ConnectionEventStream(s);
            var live = s.Output == OutputFormat.Table && s.Console.Profile.Capabilities.Interactive;
            if (!live)
            {
                return await stream.RunAsync(request, e =>
                {
                    // The table already shows what an event older than its row says.
                    if (!board.Apply(e)) return false;
                    EventsCommand.Write(s, e);
                    return true;
                }, s.Value(filters.Count), async again =>
                {
                    if (again) return;
                    if (s.Output == OutputFormat.Table)
                    {
                        await board.SeedAsync(s, request, ct);
                        Tables.Print(s.Host, board.Render(int.MaxValue));
                    }
                    s.Note($"occtl: watching connection events at {s.Settings.Gateway} (Ctrl-C to stop)");
                }, ct);
            }

            var exit = ExitCodes.Ok;
            await s.Console.Live(board.Render(Rows(s), s.Console.Profile.Width)).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async ctx =>
            {
                exit = await stream.RunAsync(request, e =>
                {
                    var changed = board.Apply(e);
                    if (changed) ctx.UpdateTarget(board.Render(Rows(s), s.Console.Profile.Width));
                    return changed;
                }, s.Value(filters.Count), async _ =>
                {
                    await board.SeedAsync(s, request, ct);
                    ctx.UpdateTarget(board.Render(Rows(s), s.Console.Profile.Width));
                }, ct);
            });
            return exit;
        });
        filters.AddTo(command);
        return command;
    }

    private static int Rows(OcctlSession s) => Math.Max(5, s.Console.Profile.Height - 4);
}

/// <summary>The watch table's rows: the latest known state of each connection and its last change.</summary>
internal sealed class WatchBoard
{
    private readonly Dictionary<string, Row> _rows = new(StringComparer.Ordinal);

    private sealed record Row(Connection Connection, ConnectionStatus Previous, string Reason, DateTimeOffset? ChangedAt);

    /// <summary>The listing (or the one connection) as the starting rows; after a lost stream it refreshes them.</summary>
    public async Task SeedAsync(OcctlSession s, WatchConnectionsRequest filter, CancellationToken ct)
    {
        List<Connection> current;
        if (filter.ConnectionId.Length > 0)
        {
            try
            {
                current = [await s.CallAsync("GetConnection", o => s.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = filter.ConnectionId }, o), ct)];
            }
            catch (OcctlException e) when (e.ExitCode == ExitCodes.NotFound)
            {
                current = [];
            }
        }
        else
        {
            current = await s.ListAllAsync(new ListConnectionsRequest { Status = filter.Status, ClientId = filter.ClientId, PageSize = 1000 }, ct);
        }
        foreach (var c in current)
        {
            _rows[c.ConnectionId] = _rows.TryGetValue(c.ConnectionId, out var known) && known.Connection.Version > c.Version
                ? known
                : new Row(c, c.Status, known?.Reason ?? "", known?.ChangedAt);
        }
    }

    /// <summary>False for an event older than what the row shows (streams deliver late; versions decide).</summary>
    public bool Apply(ConnectionEvent e)
    {
        var c = e.Connection.Clone();
        if (_rows.TryGetValue(c.ConnectionId, out var known))
        {
            if (known.Connection.Version >= c.Version) return false;
            // Events carry no pool and no status detail: keep what the listing said.
            if (c.ServerPool.Length == 0) c.ServerPool = known.Connection.ServerPool;
        }
        _rows[c.ConnectionId] = new Row(c, e.PreviousStatus, e.Reason, e.At?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow);
        return true;
    }

    /// <param name="width">Below 140 columns the table leaves out client, pool, previous status and sidecar.</param>
    public IRenderable Render(int maxRows, int width = int.MaxValue)
    {
        var now = DateTimeOffset.UtcNow;
        var wide = width >= 140;
        var table = wide
            ? Tables.New("CONNECTION", "CLIENT", "POOL", "SERVER", "STATUS", "FROM", "TARGET", "SIDECAR", "VERSION", "CHANGED", "REASON")
            : Tables.New("CONNECTION", "SERVER", "STATUS", "TARGET", "VERSION", "CHANGED", "REASON");
        var ordered = _rows.Values
            .OrderByDescending(r => r.ChangedAt ?? DateTimeOffset.MinValue)
            .ThenBy(r => r.Connection.ConnectionId, StringComparer.Ordinal)
            .ToList();
        foreach (var r in ordered.Take(maxRows))
        {
            var c = r.Connection;
            var changed = Tables.Cell(r.ChangedAt is { } at ? Names.Age(Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at), now) + " ago" : null);
            table.AddRow(wide
                ? [Tables.Cell(c.ConnectionId), Tables.Cell(c.ClientId), Tables.Cell(c.ServerPool), Tables.Cell(c.ServerId), Tables.Status(c.Status),
                    Tables.Cell(r.ChangedAt is null ? null : Names.Of(r.Previous)), Tables.Cell(c.FailoverTarget), Tables.Cell(c.SidecarId),
                    Tables.Cell(c.Version.ToString()), changed, Tables.Cell(r.Reason)]
                : [Tables.Cell(c.ConnectionId), Tables.Cell(c.ServerId), Tables.Status(c.Status), Tables.Cell(c.FailoverTarget),
                    Tables.Cell(c.Version.ToString()), changed, Tables.Cell(r.Reason)]);
        }
        // The reason may wrap; every other column stays on one line.
        table.Columns[^1].NoWrap = false;
        if (ordered.Count > maxRows) table.Caption($"… and {ordered.Count - maxRows} more");
        if (ordered.Count == 0) table.Caption("no connections yet; waiting for changes");
        return table;
    }
}
