using System.CommandLine;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Gateway;
using OrleansControl.Occtl.Output;
using Spectre.Console;
using Command = System.CommandLine.Command;

namespace OrleansControl.Occtl.Commands;

/// <summary><c>occtl connection ID</c>: one registry entry in full, and with --follow its changes from now on.</summary>
internal static class ConnectionCommand
{
    private const string HistoryNote =
        "not served: GetConnection returns the current entry only and the contract has no history call; "
        + "--follow prints its transitions and failovers from now on";

    public static Command Create(CommandFactory f)
    {
        var id = new Argument<string>("connection-id") { Description = "The connection" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Then print each change of it as it happens (until Ctrl-C)" };
        var count = new Option<int?>("--count") { Description = "With --follow: stop after this many changes" };

        var command = f.Command("connection", "Show one connection: status and why, server, target, sidecar, region", async (s, ct) =>
        {
            var connectionId = s.Value(id);
            if (!s.Value(follow))
            {
                Print(s, await GetAsync(s, connectionId, ct));
                return ExitCodes.Ok;
            }

            // Subscribed first, then read: no change falls between the detail and the first line that follows it.
            long shown = 0;
            return await new ConnectionEventStream(s).RunAsync(
                new WatchConnectionsRequest { ConnectionId = connectionId },
                e =>
                {
                    // Already in the detail (the stream may deliver a change from before the subscription late).
                    if (e.Connection.Version <= shown) return false;
                    EventsCommand.Write(s, e);
                    return true;
                },
                s.Value(count),
                async again =>
                {
                    if (again) return;
                    var connection = await GetAsync(s, connectionId, ct);
                    shown = connection.Version;
                    Print(s, connection);
                },
                ct);
        });
        command.Aliases.Add("conn");
        command.Add(id);
        command.Add(follow);
        command.Add(count);
        return command;
    }

    private static Task<Connection> GetAsync(OcctlSession s, string connectionId, CancellationToken ct) =>
        s.CallAsync("GetConnection", o => s.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = connectionId }, o), ct);

    private static void Print(OcctlSession s, Connection connection)
    {
        if (s.Output == OutputFormat.Table) PrintDetail(s.Host, connection);
        else StructuredOutput.Write(s.Host.Output, connection, s.Output);
    }

    internal static void PrintDetail(OcctlHost host, Connection c)
    {
        var now = DateTimeOffset.UtcNow;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string name, string? value) => grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(Names.OrDash(value)));

        Row("Connection", c.ConnectionId);
        Row("Client", c.ClientId);
        Row("Pool", c.ServerPool);
        Row("Server", c.ServerId.Length == 0 ? null : c.ServerAddress.Length == 0 ? c.ServerId : $"{c.ServerId} ({c.ServerAddress})");
        grid.AddRow(new Text("Status", new Style(decoration: Decoration.Bold)), new Columns(Tables.Status(c.Status), new Text($"({Meaning(c)})")).Collapse());
        Row("Detail", c.StatusDetail);
        Row("Failover target", c.FailoverTarget);
        Row("Health score", c.HealthScore.ToString());
        Row("Sidecar", c.SidecarId.Length == 0 ? "none (no sidecar carries it: a move waits for one)" : c.SidecarId);
        Row("Region", c.Region);
        if (c.HostSilo.Length > 0) // an older controller does not say
            Row("Hosted on", c.ActivatedAt is null ? c.HostSilo : $"{c.HostSilo} (activated {Names.Time(c.ActivatedAt)}, {Names.Age(c.ActivatedAt, now)} ago)");
        Row("Version", c.Version.ToString());
        Row("Last heartbeat", c.LastHeartbeat is null ? "never" : $"{Names.Time(c.LastHeartbeat)} ({Names.Age(c.LastHeartbeat, now)} ago)");
        Row("Updated", $"{Names.Time(c.UpdatedAt)} ({Names.Age(c.UpdatedAt, now)} ago)");
        foreach (var (key, value) in c.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) Row($"Metadata {key}", value);
        Row("History", HistoryNote);
        Tables.Print(host, grid);
    }

    /// <summary>What the status promises, in the contract's words: ACTIVE only on the sidecar's evidence.</summary>
    private static string Meaning(Connection c) => c.Status switch
    {
        ConnectionStatus.Requested => "registered; not signed on yet",
        ConnectionStatus.Active => $"the sidecar signed on at {Names.OrDash(c.ServerId)}",
        ConnectionStatus.Degraded => "signed on, but its health is poor",
        ConnectionStatus.Failed => "the link is down",
        ConnectionStatus.Migrating => $"a move to {Names.OrDash(c.FailoverTarget)} is under way; ACTIVE once the sidecar signs on there",
        ConnectionStatus.Closed => "closed",
        _ => "",
    };
}
