using System.CommandLine;
using System.CommandLine.Help;
using OrleansControl.Occtl.Commands;
using OrleansControl.Occtl.Config;
using OrleansControl.Occtl.Gateway;

namespace OrleansControl.Occtl;

/// <summary>occtl's command tree and its one place that turns failures into a line on standard error and an exit code.</summary>
internal static class OcctlApp
{
    public static async Task<int> RunAsync(string[] args, OcctlHost host, CancellationToken ct = default)
    {
        var options = new GlobalOptions();
        var commands = new CommandFactory(host, options);
        var root = Build(commands);
        var parse = root.Parse(args);
        if (parse.Action is HelpAction) commands.ShowDetailsOf(parse.CommandResult.Command);
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var error in parse.Errors) host.Error.WriteLine($"occtl: {error.Message}");
            host.Error.WriteLine("Run 'occtl --help' (or 'occtl COMMAND --help') for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = host.Output,
            Error = host.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = host.HandleSignals ? TimeSpan.FromSeconds(2) : null,
        };
        try
        {
            return await parse.InvokeAsync(invocation, ct);
        }
        catch (OcctlException e)
        {
            host.Error.WriteLine($"occtl: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is OperationCanceledException || e is Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled })
        {
            host.Error.WriteLine("occtl: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            // Never a stack trace: the type and message say enough to report it.
            host.Error.WriteLine($"occtl: unexpected {e.GetType().Name}: {e.Message}");
            return ExitCodes.CallFailed;
        }
    }

    internal static RootCommand Build(CommandFactory commands)
    {
        var root = new RootCommand("""
            occtl: the OrleansControl operator's tool, over the gateway's gRPC contract.

            Exit codes: 0 ok, 1 the call failed, 2 bad usage or configuration (also INVALID_ARGUMENT),
            3 not found, 4 refused with nothing changed (FAILED_PRECONDITION, e.g. no failover target),
            5 gateway unreachable or UNAVAILABLE (safe to retry), 6 not authenticated or not permitted,
            7 did not finish in time, 130 interrupted.
            """);
        foreach (var option in commands.Options.All) root.Add(option);
        root.Add(ConnectionsCommand.Create(commands));
        root.Add(ConnectionCommand.Create(commands));
        root.Add(PoolsCommand.Create(commands));
        root.Add(ServersCommand.Create(commands));
        root.Add(FailoverCommand.Create(commands));
        root.Add(DrainCommand.Create(commands));
        root.Add(ServerHealthCommand.Create(commands));
        root.Add(WatchCommand.Create(commands));
        root.Add(EventsCommand.Create(commands));
        root.Add(ConfigCommands.Create(commands));
        return root;
    }
}

/// <summary>
/// Makes commands whose action runs in an <see cref="OcctlSession"/>. A description's first line is what the list
/// of commands shows; the lines after it appear only in that command's own --help.
/// </summary>
internal sealed class CommandFactory(OcctlHost host, GlobalOptions options)
{
    private readonly Dictionary<Command, string> _details = [];

    public OcctlHost Host => host;

    public GlobalOptions Options => options;

    public Command Group(string name, string description)
    {
        var lines = description.Split('\n', 2);
        var command = new Command(name, lines[0].Trim());
        if (lines.Length > 1) _details[command] = lines[1].TrimEnd();
        return command;
    }

    public Command Command(string name, string description, Func<OcctlSession, CancellationToken, Task<int>> run)
    {
        var command = Group(name, description);
        command.SetAction(async (parse, ct) =>
        {
            using var session = new OcctlSession(host, parse, options);
            return await run(session, ct);
        });
        return command;
    }

    public void ShowDetailsOf(Command command)
    {
        if (_details.TryGetValue(command, out var details)) command.Description += "\n" + details;
    }
}
