using System.CommandLine;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Gateway;
using OrleansControl.Occtl.Output;
using Spectre.Console;
using Command = System.CommandLine.Command;

namespace OrleansControl.Occtl.Commands;

/// <summary><c>occtl connections</c>: the registry of this region, every page, filtered by the gateway.</summary>
internal static class ConnectionsCommand
{
    public static Command Create(CommandFactory f)
    {
        var pool = ConnectionFilters.Id("--pool", "Only connections of this server pool", "pool");
        var status = ConnectionFilters.Status("Only connections in this status (MIGRATING: a move is under way; ACTIVE: the sidecar signed on)");
        var sidecar = ConnectionFilters.Id("--sidecar", "Only connections this sidecar owns", "sidecar-id");
        var server = ConnectionFilters.Id("--server", "Only connections assigned to this server (during a move: the server it is leaving)", "server-id");
        var client = ConnectionFilters.Id("--client", "Only connections of this client application", "client-id");
        var pageSize = new Option<int>("--page-size")
        {
            Description = "Rows per call (1..1000); occtl fetches every page either way",
            DefaultValueFactory = _ => 1000,
        };
        pageSize.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 1000) r.AddError("--page-size must be between 1 and 1000");
        });

        var command = f.Command("connections", "List connections (this region's registry; all pages)", async (s, ct) =>
        {
            var request = new ListConnectionsRequest
            {
                ServerPool = s.Value(pool) ?? "",
                Status = Names.ParseStatus(s.Value(status)) ?? ConnectionStatus.Unspecified,
                SidecarId = s.Value(sidecar) ?? "",
                ServerId = s.Value(server) ?? "",
                ClientId = s.Value(client) ?? "",
                PageSize = s.Value(pageSize),
            };
            var connections = await s.ListAllAsync(request, ct);
            Print(s, connections);
            return ExitCodes.Ok;
        });
        command.Aliases.Add("conns");
        foreach (var o in new Option[] { pool, status, sidecar, server, client, pageSize }) command.Add(o);
        return command;
    }

    private static void Print(OcctlSession s, List<Connection> connections)
    {
        if (s.Output != OutputFormat.Table)
        {
            StructuredOutput.Write(s.Host.Output, StructuredOutput.Wrap("connections", connections), s.Output);
            return;
        }
        if (connections.Count == 0)
        {
            s.Note("No connections.");
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var table = Tables.New(Tables.ConnectionHeaders);
        foreach (var c in connections.OrderBy(c => c.ConnectionId, StringComparer.Ordinal)) table.AddRow(Tables.ConnectionRow(c, now));
        Tables.Print(s.Host, table);
    }
}
