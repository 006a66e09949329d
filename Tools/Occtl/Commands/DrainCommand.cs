using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Config;
using OrleansControl.Occtl.Gateway;
using OrleansControl.Occtl.Output;
using Spectre.Console;
using Command = System.CommandLine.Command;

namespace OrleansControl.Occtl.Commands;

/// <summary>
/// <c>occtl drain SERVER --pool POOL</c>: take a server out of service and wait until it carries no connection.
/// The contract has no drain call; this is what it allows: UNHEALTHY (the pool fails every connection on it over)
/// or DEGRADED (no new connections; occtl then asks for a failover of each connection itself, one request per
/// connection and version, so a re-run or a retry never moves one twice).
/// </summary>
internal static class DrainCommand
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    public static Command Create(CommandFactory f)
    {
        var server = new Argument<string>("server") { Description = "The server to drain" };
        var pool = new Option<string>("--pool") { Description = "Its pool", Required = true, HelpName = "pool" };
        var mark = new Option<string>("--mark")
        {
            Description = "unhealthy: the pool moves every connection at once (and the verdict reaches the peer region); "
                + "degraded: no new connections, occtl requests each move",
            DefaultValueFactory = _ => "unhealthy",
        }.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "unhealthy", "degraded");
        var timeout = GlobalOptions.Duration("--timeout", DefaultTimeout, "Give up (exit 7) when connections remain after this long");
        var interval = GlobalOptions.Duration("--interval", DefaultInterval, "How often to look");
        var reason = new Option<string?>("--reason") { Description = "Why (recorded with the verdict and the moves)" };

        var command = f.Command("drain", """
            Take a server out of service and wait until it carries no connection of this region.
            Marks it UNHEALTHY (default) or DEGRADED, then shows progress. Exit 0 when drained, 7 on --timeout (the
            connections left are listed with why).
            """, (s, ct) => RunAsync(s, s.Value(server), s.Value(pool), ServerHealthCommand.Parse(s.Value(mark)),
                s.Value(timeout) ?? DefaultTimeout, s.Value(interval) ?? DefaultInterval, s.Value(reason) ?? $"drain of {s.Value(server)} (occtl)", ct));
        foreach (var o in new Option[] { pool, mark, timeout, interval, reason }) command.Add(o);
        command.Add(server);
        return command;
    }

    private static async Task<int> RunAsync(OcctlSession s, string server, string pool, ServerHealth mark,
        TimeSpan timeout, TimeSpan interval, string reason, CancellationToken ct)
    {
        var progress = s.Output == OutputFormat.Table ? s.Host.Output : s.Host.Error;
        var clock = Stopwatch.StartNew();
        var marked = await ServerHealthCommand.SetAsync(s, pool, server, mark, reason, ct);
        progress.WriteLine(mark == ServerHealth.Unhealthy
            ? $"{server} marked UNHEALTHY: the pool fails over its connections (the gateway counted {marked.FailoversRequested}). Waiting until it carries none (timeout {Durations.Format(timeout)})."
            : $"{server} marked DEGRADED: no new connections; occtl requests the move of each one. Waiting until it carries none (timeout {Durations.Format(timeout)}).");

        var requested = new HashSet<(string, long)>();
        var refused = new HashSet<string>(StringComparer.Ordinal);
        string? last = null;
        while (true)
        {
            var remaining = (await s.ListAllAsync(new ListConnectionsRequest { ServerPool = pool, ServerId = server, PageSize = 1000 }, ct))
                .Where(c => c.Status != ConnectionStatus.Closed).ToList();
            if (remaining.Count == 0)
            {
                progress.WriteLine($"{server} carries no connection (drained in {Durations.Format(clock.Elapsed)}).");
                if (s.Output != OutputFormat.Table) WriteSummary(s, server, pool, mark, clock.Elapsed, remaining);
                return ExitCodes.Ok;
            }
            if (mark == ServerHealth.Degraded) await RequestMovesAsync(s, remaining, server, reason, requested, refused, progress, ct);

            var line = $"{server}: {remaining.Count} connection(s) left ({Breakdown(remaining)})";
            if (line != last) progress.WriteLine($"[{Durations.Format(clock.Elapsed)}] {line}");
            last = line;

            if (clock.Elapsed >= timeout)
            {
                if (s.Output == OutputFormat.Table)
                {
                    var table = Tables.New("CONNECTION", "STATUS", "TARGET", "DETAIL");
                    foreach (var c in remaining) table.AddRow(Tables.Cell(c.ConnectionId), Tables.Status(c.Status), Tables.Cell(c.FailoverTarget), Tables.Cell(c.StatusDetail));
                    Tables.Print(s.Host, table);
                }
                else
                {
                    WriteSummary(s, server, pool, mark, clock.Elapsed, remaining);
                }
                throw new OcctlException(ExitCodes.TimedOut,
                    $"drain: {server} still carries {remaining.Count} connection(s) after {Durations.Format(timeout)} (it stays {Names.Of(mark)})");
            }
            await Task.Delay(interval, ct);
        }
    }

    /// <summary>DEGRADED leaves connections where they are: ask for each move, once per connection and version.</summary>
    private static async Task RequestMovesAsync(OcctlSession s, List<Connection> remaining, string server, string reason,
        HashSet<(string, long)> requested, HashSet<string> refused, TextWriter progress, CancellationToken ct)
    {
        foreach (var c in remaining.Where(c => c.Status != ConnectionStatus.Migrating))
        {
            if (!requested.Add((c.ConnectionId, c.Version))) continue;
            var request = new RequestFailoverRequest
            {
                ConnectionId = c.ConnectionId,
                Reason = reason,
                IdempotencyKey = $"occtl-drain-{server}-{c.ConnectionId}-v{c.Version}",
            };
            try
            {
                await s.Controller.RequestFailoverAsync(request, new CallOptions(deadline: DateTime.UtcNow + s.Settings.RequestTimeout, cancellationToken: ct));
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound)
            {
                // Nowhere to go (or gone meanwhile): the drain waits and says so; the timeout ends it.
                if (refused.Add(c.ConnectionId)) progress.WriteLine($"  {c.ConnectionId}: not moved: {e.Status.Detail}");
            }
            catch (RpcException e) when (!ct.IsCancellationRequested)
            {
                throw s.Failure(e, $"RequestFailover({c.ConnectionId})");
            }
        }
    }

    private static string Breakdown(List<Connection> connections) =>
        string.Join(", ", connections.GroupBy(c => c.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Names.Of(g.Key)}"));

    private static void WriteSummary(OcctlSession s, string server, string pool, ServerHealth mark, TimeSpan elapsed, List<Connection> remaining)
    {
        var node = new JsonObject
        {
            ["serverPool"] = pool,
            ["serverId"] = server,
            ["marked"] = Names.Of(mark),
            ["drained"] = remaining.Count == 0,
            ["elapsedSeconds"] = Math.Round(elapsed.TotalSeconds, 3),
            ["remaining"] = StructuredOutput.Wrap("connections", remaining)["connections"]!.DeepClone(),
        };
        StructuredOutput.Write(s.Host.Output, node, s.Output);
    }
}
