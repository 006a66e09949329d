using System.CommandLine;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Gateway;
using OrleansControl.Occtl.Output;
using Spectre.Console;
using Command = System.CommandLine.Command;

namespace OrleansControl.Occtl.Commands;

/// <summary><c>occtl events</c>: WatchConnections as a stream of lines, one per event, for people and for scripts.</summary>
internal static class EventsCommand
{
    public static Command Create(CommandFactory f)
    {
        var filters = new WatchFilters();
        var command = f.Command("events", """
            Print connection events as they happen, one line each (-o json: one JSON object per line), until Ctrl-C.
            The contract replays nothing: events start now. A lost stream is opened again; the gap is announced on
            standard error.
            """, async (s, ct) =>
        {
            var stream = new ConnectionEventStream(s);
            return await stream.RunAsync(filters.Request(s), e =>
            {
                Write(s, e);
                return true;
            }, s.Value(filters.Count), again =>
            {
                if (!again) s.Note($"occtl: watching connection events at {s.Settings.Gateway} (Ctrl-C to stop)");
                return Task.CompletedTask;
            }, ct);
        });
        filters.AddTo(command);
        return command;
    }

    public static void Write(OcctlSession s, ConnectionEvent e)
    {
        switch (s.Output)
        {
            case OutputFormat.Json:
                s.Host.Output.WriteLine(StructuredOutput.Line(e));
                break;
            case OutputFormat.Yaml:
                s.Host.Output.WriteLine("---");
                StructuredOutput.Write(s.Host.Output, e, OutputFormat.Yaml);
                break;
            default:
                s.Host.Output.WriteLine(EventLines.Format(e));
                break;
        }
        s.Host.Output.Flush();
    }
}

/// <summary>WatchConnections' filters (status, client, connection) and a count to stop after.</summary>
internal sealed class WatchFilters
{
    public Option<string?> Status { get; } = ConnectionFilters.Status("Only events into this status");

    public Option<string?> Client { get; } = ConnectionFilters.Id("--client", "Only events of this client application", "client-id");

    public Option<string?> Connection { get; } = ConnectionFilters.Id("--connection", "Only events of this connection", "connection-id");

    public Option<int?> Count { get; } = new("--count") { Description = "Stop after this many events (default: until Ctrl-C)" };

    public void AddTo(Command command)
    {
        command.Add(Status);
        command.Add(Client);
        command.Add(Connection);
        command.Add(Count);
    }

    public WatchConnectionsRequest Request(OcctlSession s) => new()
    {
        Status = Names.ParseStatus(s.Value(Status)) ?? ConnectionStatus.Unspecified,
        ClientId = s.Value(Client) ?? "",
        ConnectionId = s.Value(Connection) ?? "",
    };
}
