using System.CommandLine;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Gateway;
using OrleansControl.Occtl.Output;
using Spectre.Console;
using Command = System.CommandLine.Command;

namespace OrleansControl.Occtl.Commands;

/// <summary><c>occtl servers POOL</c>: the pool's servers, load, and whether each is usable (healthy, suspect, ejected until).</summary>
internal static class ServersCommand
{
    public static Command Create(CommandFactory f)
    {
        var pool = new Argument<string>("pool") { Description = "The server pool" };
        var command = f.Command("servers", """
            List a pool's servers: load and capacity, and whether each is usable.
            STATE is healthy, suspect (ejected on evidence until EJECTED-UNTIL: no new connections, never a failover
            target) or degraded/unhealthy (declared so by an operator; the contract does not say which of the two).
            """, async (s, ct) =>
        {
            var name = s.Value(pool);
            var response = await s.CallAsync("ListServers", o => s.Pools.ListServersAsync(new ListServersRequest { ServerPool = name }, o), ct);
            if (s.Output != OutputFormat.Table)
            {
                StructuredOutput.Write(s.Host.Output, response, s.Output);
                return ExitCodes.Ok;
            }
            if (response.Servers.Count == 0)
            {
                // The gateway answers an unknown pool and an empty one alike.
                s.Note($"Pool '{name}' has no servers.");
                return ExitCodes.Ok;
            }
            var table = Tables.New(Tables.ServerHeaders);
            foreach (var server in response.Servers.OrderBy(x => x.ServerId, StringComparer.Ordinal)) table.AddRow(Tables.ServerRow(server));
            Tables.Print(s.Host, table);
            return ExitCodes.Ok;
        });
        command.Add(pool);
        return command;
    }
}
