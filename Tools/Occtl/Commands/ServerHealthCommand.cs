using System.CommandLine;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Gateway;
using OrleansControl.Occtl.Output;
using Spectre.Console;
using Command = System.CommandLine.Command;

namespace OrleansControl.Occtl.Commands;

/// <summary><c>occtl server-health POOL SERVER healthy|degraded|unhealthy</c>: an operator's verdict on a server.</summary>
internal static class ServerHealthCommand
{
    public static Command Create(CommandFactory f)
    {
        var pool = new Argument<string>("pool") { Description = "The server pool" };
        var server = new Argument<string>("server") { Description = "The server id" };
        var health = new Argument<string>("health")
        {
            Description = "healthy; degraded (keeps its connections, gets no new ones); unhealthy (its connections are failed over)",
        };
        health.AcceptOnlyFromAmong("healthy", "degraded", "unhealthy");
        var reason = new Option<string?>("--reason") { Description = "Why (recorded; at most 512 characters)" };

        var command = f.Command("server-health", """
            Declare a server healthy, degraded or unhealthy.
            UNHEALTHY fails over this region's connections on it, and the scheme region relays the verdict to the bank
            region, whose connections on it move too.
            """, async (s, ct) =>
        {
            var target = Parse(s.Value(health));
            var response = await SetAsync(s, s.Value(pool), s.Value(server), target, s.Value(reason), ct);
            if (s.Output != OutputFormat.Table)
            {
                StructuredOutput.Write(s.Host.Output, response, s.Output);
                return ExitCodes.Ok;
            }
            var table = Tables.New(Tables.ServerHeaders);
            table.AddRow(Tables.ServerRow(response.Server));
            Tables.Print(s.Host, table);
            s.Note(target == ServerHealth.Unhealthy
                ? $"{response.Server.ServerId} is UNHEALTHY: {response.FailoversRequested} connection(s) of this region on it are being failed over."
                : $"{response.Server.ServerId} is {Names.Of(target)}.");
            return ExitCodes.Ok;
        });
        command.Add(pool);
        command.Add(server);
        command.Add(health);
        command.Add(reason);
        return command;
    }

    public static ServerHealth Parse(string text) => text.ToLowerInvariant() switch
    {
        "healthy" => ServerHealth.Healthy,
        "degraded" => ServerHealth.Degraded,
        "unhealthy" => ServerHealth.Unhealthy,
        _ => throw new OcctlException(ExitCodes.Usage, $"'{text}' is not healthy, degraded or unhealthy"),
    };

    public static Task<SetServerHealthResponse> SetAsync(OcctlSession s, string pool, string server, ServerHealth health, string? reason, CancellationToken ct) =>
        s.CallAsync("SetServerHealth", o => s.Pools.SetServerHealthAsync(new SetServerHealthRequest
        {
            ServerPool = pool,
            ServerId = server,
            Health = health,
            Reason = reason ?? "",
        }, o), ct);
}
