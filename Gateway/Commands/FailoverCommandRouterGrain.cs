using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Gateway.Services;

namespace OrleansControl.Gateway.Commands;

/// <summary>Marker interface of the router (it is only ever activated by its implicit stream subscription).</summary>
[Alias("oc.gw.IFailoverCommandRouterGrain")]
public interface IFailoverCommandRouterGrain : IGrainWithStringKey;

/// <summary>
/// Turns the grains' <see cref="FailoverCommand"/>s (stream key: client id) into RECONNECT_ELSEWHERE commands in the
/// outbox of the sidecar that owns the connection. Implicitly subscribed, so no command is missed while no gateway
/// has that sidecar attached.
/// </summary>
[ImplicitStreamSubscription(ControllerStreams.FailoverNamespace)]
internal sealed partial class FailoverCommandRouterGrain(ILogger<FailoverCommandRouterGrain> logger)
    : Grain, IFailoverCommandRouterGrain, IStreamSubscriptionObserver, IAsyncObserver<FailoverCommand>
{
    public static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(30);

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
    {
        await handleFactory.Create<FailoverCommand>().ResumeAsync(this);
    }

    public async Task OnNextAsync(FailoverCommand item, StreamSequenceToken? token = null)
    {
        // Events on the "all" key duplicate the per-client ones.
        if (this.GetPrimaryKeyString() == ControllerStreams.AllKey) return;

        var snapshot = await GrainFactory.GetGrain<IConnectionGrain>(item.ConnectionId).GetState();
        var sidecarId = ProtoMapping.SidecarOf(snapshot);
        if (sidecarId is null)
        {
            LogNoSidecar(item.ConnectionId);
            return;
        }
        var command = new SidecarCommand(
            CommandId: $"failover:{item.ConnectionId}:{item.IdempotencyKey}",
            Kind: SidecarCommandKind.ReconnectElsewhere,
            ConnectionId: item.ConnectionId,
            TargetServerId: item.ToServerId,
            TargetServerAddress: item.ToServerAddress,
            Deadline: item.IssuedAt + CommandDeadline,
            Reason: item.Reason);
        await GrainFactory.GetGrain<ISidecarOutboxGrain>(sidecarId).Enqueue(command);
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failover command for connection {ConnectionId} has no owning sidecar; dropped")]
    private partial void LogNoSidecar(string connectionId);
}
