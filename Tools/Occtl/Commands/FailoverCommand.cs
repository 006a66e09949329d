using System.CommandLine;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Output;
using Spectre.Console;
using Command = System.CommandLine.Command;

namespace OrleansControl.Occtl.Commands;

/// <summary><c>occtl failover ID</c>: ask the controller to move a connection; the pool chooses where.</summary>
internal static class FailoverCommand
{
    public static Command Create(CommandFactory f)
    {
        var id = new Argument<string>("connection-id") { Description = "The connection to move" };
        var reason = new Option<string>("--reason")
        {
            Description = "Why (recorded with the move; at most 512 characters)",
            DefaultValueFactory = _ => "requested by an operator (occtl)",
        };
        var to = new Option<string?>("--to")
        {
            Description = "Refused: the contract's RequestFailover has no target field; the pool chooses the target",
            HelpName = "server",
        };
        var key = new Option<string?>("--idempotency-key")
        {
            Description = "Makes a retried command move the connection at most once (default: a new key per run)",
            HelpName = "key",
        };

        var command = f.Command("failover", """
            Move a connection to another server of its pool.
            The pool chooses the target: never the current server, never a suspect one, another zone first. The answer is
            MIGRATING towards that target; the connection is ACTIVE there only once its sidecar signs on (follow it with
            'occtl connection ID --follow'). Exit 4 when nothing can move (e.g. no other usable server).
            """, async (s, ct) =>
        {
            if (s.Value(to) is { } target)
            {
                throw new OcctlException(ExitCodes.Refused,
                    $"--to {target} cannot be honoured: the contract's RequestFailover has no target field, the pool chooses the target "
                    + "(never the current server, never a suspect one, another zone first). Nothing was requested; run without --to.");
            }
            var request = new RequestFailoverRequest
            {
                ConnectionId = s.Value(id),
                Reason = s.Value(reason),
                IdempotencyKey = s.Value(key) ?? $"occtl-{Guid.NewGuid():N}",
            };
            var response = await s.CallAsync("RequestFailover", o => s.Controller.RequestFailoverAsync(request, o), ct);
            if (s.Output != OutputFormat.Table)
            {
                StructuredOutput.Write(s.Host.Output, response, s.Output);
                return ExitCodes.Ok;
            }
            var c = response.Connection;
            s.Host.Output.WriteLine(c.Status == ConnectionStatus.Migrating
                ? $"{c.ConnectionId}: MIGRATING from {Names.OrDash(c.ServerId)} to {Names.OrDash(c.FailoverTarget)} (version {c.Version})"
                : $"{c.ConnectionId}: {Names.Of(c.Status)} on {Names.OrDash(c.ServerId)} (version {c.Version})");
            if (c.StatusDetail.Length > 0) s.Host.Output.WriteLine($"  {c.StatusDetail}");
            if (response.Duplicate) s.Note($"This idempotency key ({request.IdempotencyKey}) was handled before: nothing new was requested.");
            return ExitCodes.Ok;
        });
        command.Add(id);
        command.Add(reason);
        command.Add(to);
        command.Add(key);
        return command;
    }
}
