using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Trace;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Hosting;
using OrleansControl.Silo.Extensions;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// One trace across the path, collected by OpenTelemetry's in-memory exporter with exactly the sources and
/// instrumentation the silo and the sidecar host export (AddControllerTracing, AddSidecarTracing).
/// </summary>
public sealed class TracingTests(ITestOutputHelper output)
{
    private const string Pool = "trace-pool";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task One_trace_follows_a_failover_request_through_gateway_and_grains_to_the_command_and_its_acknowledgement()
    {
        var spans = new List<Activity>();
        using var tracer = Sdk.CreateTracerProviderBuilder().AddControllerTracing().AddSidecarTracing().AddInMemoryExporter(spans).Build();
        await using var serverA = new SchemeServer("srv-a");
        await using var serverB = new SchemeServer("srv-b");
        await using var controller = await ControllerHost.StartAsync(heartbeatInterval: TimeSpan.FromSeconds(1));
        var pool = controller.Grains.GetGrain<IServerPoolGrain>(Pool);
        await pool.AddOrUpdateServer(new ServerDefinition("srv-a", serverA.Address, "zone-a", 10));
        await pool.AddOrUpdateServer(new ServerDefinition("srv-b", serverB.Address, "zone-b", 10));
        await using var link = new IsoClient(new IsoClientOptions { Name = "bank", InstitutionId = "12345", EchoInterval = TimeSpan.FromSeconds(1) });
        using var agent = new SidecarAgent(link, Options.Create(new SidecarAgentOptions
        {
            Controller = controller.GrpcAddress,
            SidecarId = "sidecar-t",
            ClientId = "bank-t",
            ServerPool = Pool,
            PreferredServer = "srv-a",
            HeartbeatInterval = TimeSpan.FromMilliseconds(250),
            RetryInitialDelay = TimeSpan.FromMilliseconds(100),
            RetryMaxDelay = TimeSpan.FromMilliseconds(500),
        }), NullLogger<SidecarAgent>.Instance);
        await agent.StartAsync(CancellationToken.None);
        await Until(() => link.State == ConnectionState.SignedOn && link.Server == serverA.Address
            && agent.Status().ControllerAttached, "signed on to srv-a and attached");
        await Until(async () => (await controller.Grains.GetGrain<IConnectionGrain>(agent.Status().ConnectionId).GetState()).Status == ConnectionStatus.Active, "active");

        Assert.Equal("srv-b", await agent.RequestFailoverAsync("trace me", CancellationToken.None));
        await Until(() => link.Server == serverB.Address && link.State == ConnectionState.SignedOn, "moved to srv-b");
        // The listener is process-wide: other test classes running alongside (SidecarMeetsControllerTests moves links
        // too) add their spans to this list. Only this request's trace counts: its root is this connection's span.
        var connectionId = agent.Status().ConnectionId;
        var root = Assert.Single(Snapshot(spans), s => s.Source.Name == "OrleansControl.Sidecar" && s.DisplayName == "request failover"
            && (string?)s.GetTagItem("orleanscontrol.connection_id") == connectionId);
        List<Activity> Trace() => [.. Snapshot(spans).Where(s => s.TraceId == root.TraceId)];
        try
        {
            // The move's acknowledgement in this trace, with its grain call (the backups list sent with it is
            // acknowledged too, often first).
            await Until(() =>
            {
                var now = Trace();
                return now.Any(a => a.DisplayName == "command acknowledged" && CompletesCommand(a, now)
                    && now.Any(e => e.SpanId == a.ParentSpanId && e.DisplayName == "command ReconnectElsewhere"));
            }, "the move's acknowledgement span in the request's trace, with its grain call");
        }
        finally
        {
            foreach (var s in Snapshot(spans).OrderBy(s => s.StartTimeUtc))
            {
                output.WriteLine($"{s.TraceId} {s.SpanId} <- {s.ParentSpanId} [{s.Source.Name}] {s.Kind} {s.DisplayName}");
            }
        }
        await agent.StopAsync(CancellationToken.None);

        var trace = Trace();
        foreach (var s in trace.OrderBy(s => s.StartTimeUtc))
        {
            output.WriteLine($"{s.SpanId} <- {s.ParentSpanId} [{s.Source.Name}] {s.Kind} {s.DisplayName}");
        }

        // sidecar -> gateway: the gRPC client's span, then the gateway's server span as its child.
        var client = Assert.Single(trace, s => s.ParentSpanId == root.SpanId && s.Kind == ActivityKind.Client && s.DisplayName.Contains("RequestFailover", StringComparison.Ordinal));
        var server = Assert.Single(trace, s => s.Kind == ActivityKind.Server && s.Source.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)
            && Ancestors(s, trace).Contains(client));
        // gateway -> grains: the failover decision is the connection grain's RequestFailover, under the gateway's span.
        var decision = Assert.Single(trace, s => s.DisplayName.Contains("IConnectionGrain", StringComparison.Ordinal)
            && s.DisplayName.Contains("RequestFailover", StringComparison.Ordinal) && s.Kind == ActivityKind.Server);
        Assert.Contains(server, Ancestors(decision, trace));
        // decision -> command: the move's command carries the decision's span (every attempt's, also one queued later
        // from a timer), and the sidecar carries it out under it (Command.trace_parent). A re-sent copy (the stream
        // re-attached, the outbox delivered it again) is acknowledged as "already executed" under the same parent.
        var executions = trace.Where(s => s.Source.Name == "OrleansControl.Sidecar" && s.DisplayName == "command ReconnectElsewhere").ToList();
        Assert.NotEmpty(executions);
        Assert.All(executions, e => Assert.Equal(decision.SpanId, e.ParentSpanId));
        Assert.Contains(trace, s => s.DisplayName == "ISidecarOutboxGrain/Enqueue" && s.Kind == ActivityKind.Server && Ancestors(s, trace).Contains(decision));
        // acknowledgement -> gateway -> grain: under the span named in CommandAck.trace_parent, the connection grain's
        // CompleteCommand once (a re-sent copy's acknowledgement finds the outbox entry gone and completes nothing).
        // (The backups list queued with the move is acknowledged too, under its own command span.)
        Assert.Single(trace, s => s.Source.Name == "OrleansControl.Gateway" && s.DisplayName == "command acknowledged"
            && executions.Any(e => e.SpanId == s.ParentSpanId) && CompletesCommand(s, trace));
    }

    /// <summary>A copy; the exporter appends (under its processor's lock, not ours) while the test reads.</summary>
    internal static List<Activity> Snapshot(List<Activity> spans)
    {
        while (true)
        {
            try
            {
                return [.. spans];
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
            {
            }
        }
    }

    private static bool CompletesCommand(Activity ack, List<Activity> trace) =>
        trace.Any(s => s.DisplayName.Contains("CompleteCommand", StringComparison.Ordinal) && Ancestors(s, trace).Contains(ack));

    private static List<Activity> Ancestors(Activity span, List<Activity> trace)
    {
        var chain = new List<Activity>();
        for (var parent = trace.FirstOrDefault(s => s.SpanId == span.ParentSpanId); parent is not null; parent = trace.FirstOrDefault(s => s.SpanId == parent.ParentSpanId))
        {
            chain.Add(parent);
        }

        return chain;
    }

    private static async Task Until(Func<bool> condition, string what) => await Until(() => Task.FromResult(condition()), what);

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (OrleansControl.GrainInterfaces.Errors.ConnectionNotFoundException)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(25);
        }
    }
}
