using System.Collections.Immutable;
using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Benchmarks.Shared;
using OrleansControl.Contract.V1;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using ConnectionStatus = OrleansControl.GrainInterfaces.Models.ConnectionStatus;
using ServerHealth = OrleansControl.GrainInterfaces.Models.ServerHealth;

namespace OrleansControl.Benchmarks.Failover;

/// <summary>
/// Times a failover end to end through a gateway co-hosted with one silo, over real loopback gRPC:
/// (1) reported: a sidecar reports its link FAILED → the RECONNECT_ELSEWHERE command reaches that sidecar's stream;
/// (2) silent: a sidecar stops heartbeating → the controller detects the timeout and the command arrives.
/// Prints min/p50/p99/max for each. The fake sidecar says what a real one says: heartbeats carry its link (signed on at
/// the registry's server), and it acknowledges a move as signed on at the target; each trial then checks that the
/// registry shows it Active there (outside the timed window), so a move that never completes fails the run.
/// </summary>
public sealed class FailoverTimingTool : ILoadTool
{
    private const string Pool = "failover-pool";

    public string Name => "failover";

    public string Description => "time reported and silent (heartbeat timeout) failovers end to end (--trials 200 --silent 20 --interval-ms 1000)";

    public async Task<int> RunAsync(string[] args)
    {
        var trials = ToolArgs.Int(args, "--trials", 200);
        var silentTrials = ToolArgs.Int(args, "--silent", 20);
        var intervalMs = ToolArgs.Int(args, "--interval-ms", 1000);
        const int missed = 3;

        var (app, grpcPort) = await InProcessController.StartAsync(new Dictionary<string, string?>
        {
            ["Controller:Health:HeartbeatInterval"] = TimeSpan.FromMilliseconds(intervalMs).ToString(),
            ["Controller:Health:MissedHeartbeatsBeforeFailed"] = missed.ToString(),
        });
        await using var appLifetime = app;

        var grains = app.Services.GetRequiredService<IClusterClient>();
        var pool = grains.GetGrain<IServerPoolGrain>(Pool);
        var capacity = 2 * (trials + silentTrials) + 10;
        await pool.AddOrUpdateServer(new ServerDefinition("srv-a", "10.0.0.1:5000", "zone-a", capacity));
        await pool.AddOrUpdateServer(new ServerDefinition("srv-b", "10.0.0.2:5000", "zone-b", capacity));
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var client = new SidecarService.SidecarServiceClient(channel);

        Console.WriteLine($"failover: {Environment.ProcessorCount} cores, heartbeat interval {intervalMs} ms, failed after {missed} missed");

        // (1) Reported failures, one at a time so each measures an idle controller's reaction.
        var reported = new List<double>();
        for (var i = 0; i < trials; i++)
        {
            await using var sidecar = await AttachedSidecar.Start(grains, client, $"rep-{i:D4}");
            await sidecar.Heartbeat();
            await sidecar.WaitForStatus(grains, ConnectionStatus.Active);
            var clock = Stopwatch.StartNew();
            await sidecar.Send(new SidecarMessage { StateReport = new StateReport { ConnectionId = sidecar.ConnectionId, State = LinkState.Failed, Detail = "benchmark" } });
            var command = await sidecar.NextCommand(TimeSpan.FromSeconds(10));
            reported.Add(clock.Elapsed.TotalMilliseconds);
            Check(command, sidecar.ConnectionId);
            await sidecar.WaitForStatus(grains, ConnectionStatus.Active, command.TargetServerId);
            // The report ejected srv-a (evidence); an operator's word reinstates it so the next trial has its target.
            await pool.SetServerHealth("srv-a", ServerHealth.Healthy);
        }
        Print("reported failure -> command on the sidecar stream", reported);

        // (2) Silent failures: heartbeats stop; all trials run at once (detection is per grain).
        var silent = await Task.WhenAll(Enumerable.Range(0, silentTrials).Select(async i =>
        {
            await using var sidecar = await AttachedSidecar.Start(grains, client, $"sil-{i:D4}");
            for (var beat = 0; beat < 2; beat++)
            {
                await sidecar.Heartbeat();
                await Task.Delay(intervalMs);
            }
            await sidecar.Heartbeat();
            var clock = Stopwatch.StartNew();
            var command = await sidecar.NextCommand(TimeSpan.FromMilliseconds(intervalMs * (missed + 10)));
            var elapsed = clock.Elapsed.TotalMilliseconds;
            Check(command, sidecar.ConnectionId);
            await sidecar.WaitForStatus(grains, ConnectionStatus.Active, command.TargetServerId);
            return elapsed;
        }));
        Print($"last heartbeat -> command (timeout = {missed} x {intervalMs} ms)", silent.ToList());

        await app.StopAsync();
        return 0;
    }

    private static void Check(Command command, string connectionId)
    {
        if (command.Kind != CommandKind.ReconnectElsewhere || command.ConnectionId != connectionId || command.TargetServerId.Length == 0)
            throw new InvalidOperationException($"unexpected command {command}");
    }

    private static void Print(string what, List<double> ms)
    {
        ms.Sort();
        double P(double q) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
        Console.WriteLine($"  {what}: n={ms.Count} min {ms[0]:F1} ms, p50 {P(0.50):F1} ms, p99 {P(0.99):F1} ms, max {ms[^1]:F1} ms");
    }



    /// <summary>A registered connection with its sidecar's Attach stream open.</summary>
    private sealed class AttachedSidecar : IAsyncDisposable
    {
        private readonly AsyncDuplexStreamingCall<SidecarMessage, ControllerMessage> call;

        private AttachedSidecar(string connectionId, string address, AsyncDuplexStreamingCall<SidecarMessage, ControllerMessage> call)
        {
            ConnectionId = connectionId;
            SignedOnAt = address;
            this.call = call;
        }

        public string ConnectionId { get; }

        /// <summary>Where this fake link is signed on: the registered server, then each move's target.</summary>
        public string SignedOnAt { get; private set; }

        public static async Task<AttachedSidecar> Start(IClusterClient grains, SidecarService.SidecarServiceClient client, string connectionId)
        {
            var sidecarId = $"sidecar-{connectionId}";
            var registered = await grains.GetGrain<IConnectionGrain>(connectionId).Register(new ConnectionRegistration(
                $"client-{connectionId}", Pool, "srv-a", ImmutableDictionary<string, string>.Empty, SidecarId: sidecarId));
            var call = client.Attach();
            await call.RequestStream.WriteAsync(new SidecarMessage { Register = new SidecarRegister { SidecarId = sidecarId } });
            if (!await call.ResponseStream.MoveNext(CancellationToken.None) || call.ResponseStream.Current.BodyCase != ControllerMessage.BodyOneofCase.Attached)
                throw new InvalidOperationException($"attach refused: {call.ResponseStream.Current}");
            return new AttachedSidecar(connectionId, registered.ServerAddress!, call);
        }

        public Task Heartbeat() => Send(new SidecarMessage
        {
            Heartbeat = new OrleansControl.Contract.V1.Heartbeat
            {
                ConnectionId = ConnectionId,
                EchoRttMs = 5,
                SentAt = Timestamp.FromDateTime(DateTime.UtcNow),
                LinkState = LinkState.SignedOn,
                ServerAddress = SignedOnAt,
            },
        });

        public Task Send(SidecarMessage message) => call.RequestStream.WriteAsync(message);

        public async Task WaitForStatus(IClusterClient grains, ConnectionStatus status, string? serverId = null)
        {
            var grain = grains.GetGrain<IConnectionGrain>(ConnectionId);
            for (var i = 0; i < 500; i++)
            {
                var state = await grain.GetState();
                if (state.Status == status && (serverId is null || state.ServerId == serverId)) return;
                await Task.Delay(2);
            }
            throw new InvalidOperationException($"{ConnectionId} did not become {status}{(serverId is null ? "" : $" on {serverId}")}: the trial would time the wrong thing");
        }

        public async Task<Command> NextCommand(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            while (await call.ResponseStream.MoveNext(cts.Token))
            {
                var message = call.ResponseStream.Current;
                if (message.BodyCase == ControllerMessage.BodyOneofCase.Command)
                {
                    // A real sidecar acks a move once it is signed on at the target, and says where: that completes the move.
                    var command = message.Command;
                    SignedOnAt = command.TargetServerAddress;
                    await Send(new SidecarMessage
                    {
                        CommandAck = new CommandAck { CommandId = command.CommandId, Sequence = command.Sequence, Success = true, ServerAddress = SignedOnAt },
                    });
                    return command;
                }
                if (message.BodyCase == ControllerMessage.BodyOneofCase.Rejected)
                    throw new InvalidOperationException($"rejected: {message.Rejected.Message}");
            }
            throw new InvalidOperationException("stream ended before a command arrived");
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception)
            {
                // The stream may already be gone; nothing to release then.
            }
            call.Dispose();
        }
    }
}
