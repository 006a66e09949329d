using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using OrleansControl.Contract.V1;
using OrleansControl.GrainInterfaces;

namespace OrleansControl.Gateway.Regions;

/// <summary>Queues calls for the peer region while the link is down and replays them, in order, once it is back.</summary>
internal sealed partial class PeerOutbox(PeerLink link, IClusterClient cluster, ILogger<PeerOutbox> logger)
{
    private const string AssignServer = "AssignServer";
    private const string SetServerHealth = "SetServerHealth";

    private IPeerOutboxGrain Grain => cluster.GetGrain<IPeerOutboxGrain>(link.PeerRegion ?? "peer");

    public Task QueueAsync(AssignServerRequest request) => Queue($"assign:{request.ConnectionId}", AssignServer, request);

    public Task QueueAsync(SetServerHealthRequest request) => Queue($"health:{request.ServerPool}:{request.ServerId}", SetServerHealth, request);

    private async Task Queue(string key, string method, IMessage request)
    {
        await Grain.Enqueue(new PeerNotice(key, method, request.ToByteArray()));
        LogQueued(method, key);
    }

    /// <summary>Replays queued calls (all idempotent) in order.</summary>
    /// <exception cref="PeerUnavailableException">The link failed: the rest stays queued, and what follows the replay
    /// (a push of the registry) should wait for the next round, so the peer never sees entries before their assignments.</exception>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var batch = await Grain.Peek(100);
            if (batch.Length == 0) return;
            foreach (var n in batch)
            {
                try
                {
                    await (n.Method switch
                    {
                        AssignServer => link.CallAsync(n.Method,
                            o => link.Pools!.AssignServerAsync(AssignServerRequest.Parser.ParseFrom(n.Request), o).ResponseAsync, PeerCallKind.Retried, cancellationToken),
                        SetServerHealth => (Task)link.CallAsync(n.Method,
                            o => link.Pools!.SetServerHealthAsync(SetServerHealthRequest.Parser.ParseFrom(n.Request), o).ResponseAsync, PeerCallKind.Retried, cancellationToken),
                        _ => Task.CompletedTask,
                    });
                }
                catch (RpcException e)
                {
                    // A definite refusal: a retry would not change it. The registry sync still carries the entries.
                    LogRefused(n.Method, n.Key, e.StatusCode);
                }
                await Grain.Remove(n.Key, n.Sequence);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer region unreachable: {Method} ({Key}) queued")]
    private partial void LogQueued(string method, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer refused queued {Method} ({Key}): {Code}")]
    private partial void LogRefused(string method, string key, StatusCode code);
}
