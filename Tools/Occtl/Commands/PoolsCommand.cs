using System.CommandLine;
using System.Text.Json.Nodes;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Gateway;
using OrleansControl.Occtl.Output;
using Spectre.Console;
using Command = System.CommandLine.Command;

namespace OrleansControl.Occtl.Commands;

/// <summary>
/// <c>occtl pools</c>. The contract has no call that lists pools, so the list is derived: the pools this region's
/// connections name, plus those given with --pool or in the context's "pools"; each with its servers (ListServers).
/// </summary>
internal static class PoolsCommand
{
    public static Command Create(CommandFactory f)
    {
        var extra = new Option<string[]>("--pool")
        {
            Description = "Also show this pool (repeatable): a pool no connection names is otherwise not listed",
            HelpName = "pool",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = f.Command("pools", """
            List server pools, their servers and connections (derived: the contract has no call that lists pools).
            The contract has no call that lists pools: occtl shows the pools this region's connections name, plus those
            given with --pool or listed in the context's "pools" in the config file. A pool with servers but no connection
            appears only that way.
            """, async (s, ct) =>
        {
            var connections = await s.ListAllAsync(new ListConnectionsRequest { PageSize = 1000 }, ct);
            var byPool = connections.GroupBy(c => c.ServerPool, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            var names = byPool.Keys.Concat(s.Value(extra) ?? []).Concat(s.Settings.Pools)
                .Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

            var pools = new List<(string Name, List<Connection> Connections, ListServersResponse Servers)>();
            foreach (var name in names)
            {
                var servers = await s.CallAsync($"ListServers({name})",
                    o => s.Pools.ListServersAsync(new ListServersRequest { ServerPool = name }, o), ct);
                pools.Add((name, byPool.GetValueOrDefault(name) ?? [], servers));
            }
            Print(s, pools);
            return ExitCodes.Ok;
        });
        command.Add(extra);
        return command;
    }

    private static void Print(OcctlSession s, List<(string Name, List<Connection> Connections, ListServersResponse Servers)> pools)
    {
        if (s.Output != OutputFormat.Table)
        {
            var array = new JsonArray();
            foreach (var (name, connections, servers) in pools)
            {
                var byStatus = new JsonObject();
                foreach (var g in connections.GroupBy(c => c.Status).OrderBy(g => g.Key)) byStatus[Names.Of(g.Key)] = g.Count();
                array.Add(new JsonObject
                {
                    ["pool"] = name,
                    ["connections"] = connections.Count,
                    ["connectionsByStatus"] = byStatus,
                    ["servers"] = StructuredOutput.ToNode(servers)["servers"]!.DeepClone(),
                });
            }
            StructuredOutput.Write(s.Host.Output, new JsonObject { ["pools"] = array }, s.Output);
            return;
        }
        if (pools.Count == 0)
        {
            s.Note("No pools: no connection names one. Name pools with --pool, or list them in the context's \"pools\".");
            return;
        }
        var table = Tables.New("POOL", "SERVERS", "HEALTHY", "SUSPECT", "LOAD", "CAPACITY", "CONNECTIONS", "ACTIVE", "MIGRATING", "FAILED");
        foreach (var (name, connections, servers) in pools)
        {
            int Count(ConnectionStatus status) => connections.Count(c => c.Status == status);
            table.AddRow(Tables.Cell(name), Tables.Cell(servers.Servers.Count.ToString()),
                Tables.Cell(servers.Servers.Count(x => x.Healthy).ToString()), Tables.Cell(servers.Servers.Count(x => x.Suspect).ToString()),
                Tables.Cell(servers.Servers.Sum(x => x.Load).ToString()), Tables.Cell(servers.Servers.Sum(x => x.Capacity).ToString()),
                Tables.Cell(connections.Count.ToString()), Tables.Cell(Count(ConnectionStatus.Active).ToString()),
                Tables.Cell(Count(ConnectionStatus.Migrating).ToString()), Tables.Cell(Count(ConnectionStatus.Failed).ToString()));
        }
        Tables.Print(s.Host, table);
    }
}
