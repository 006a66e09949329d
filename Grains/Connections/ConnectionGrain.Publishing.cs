using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Projection;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>Everything a connection tells the outside after its state is persisted: stream events, projection, index.</summary>
public sealed partial class ConnectionGrain
{
    private const int MaxUnpublishedEvents = 256;
    private bool _publishFailing;

    /// <summary>The event of a change, kept in the state written with the change: a publish that fails is retried, never lost.</summary>
    private void QueueStatusEvent(ConnectionStatus from, ConnectionStatus to, string reason, DateTimeOffset at)
    {
        S.UnpublishedEvents.Add(new ConnectionStatusChanged(Id, S.ClientId, S.ServerId, from, to, S.Version, S.HealthScore, S.FailoverTarget,
            reason, at, S.SidecarId, S.Region, S.ServerAddress));
        if (S.UnpublishedEvents.Count > MaxUnpublishedEvents)
        {
            // The provider has refused events for a long time: drop the oldest, loudly (the state itself is intact).
            var dropped = S.UnpublishedEvents.Count - MaxUnpublishedEvents;
            S.UnpublishedEvents.RemoveRange(0, dropped);
            Log.EventsDropped(logger, Id, dropped);
            metrics.EventsDropped(dropped);
        }
    }

    /// <summary>Publishes the pending events in order; stops at the first refusal and retries on the wake-up timer.</summary>
    /// <param name="retry">From the wake-up timer: tries even while the provider is known late (a transition does not wait
    /// on it again: the timer retries within a second).</param>
    private async Task PublishPendingEventsAsync(bool retry = false)
    {
        if (S.UnpublishedEvents.Count == 0 || (_publishFailing && !retry))
            return;
        var provider = this.GetStreamProvider(ControllerStreams.ProviderName);
        var published = 0;
        try
        {
            // Bounded like the pool calls: a stream queue on a silo that died but is not declared dead yet must not hold
            // up the transition (the event stays unpublished and is retried; a late first attempt makes a duplicate).
            foreach (var evt in S.UnpublishedEvents)
            {
                await provider.GetStream<ConnectionStatusChanged>(ControllerStreams.StatusOf(Id)).OnNextAsync(evt).WaitAsync(_options.PoolCallDeadline);
                await provider.GetStream<ConnectionStatusChanged>(ControllerStreams.AllStatus).OnNextAsync(evt).WaitAsync(_options.PoolCallDeadline);
                published++;
            }
            if (_publishFailing)
                Log.PublishRecovered(logger, Id);
            _publishFailing = false;
        }
        catch (Exception ex)
        {
            if (!_publishFailing)
                Log.PublishFailed(logger, ex, Id); // once per streak of failures, not per retry
            _publishFailing = true;
            ScheduleWakeup(TimeSpan.FromSeconds(1));
        }
        finally
        {
            if (published > 0)
            {
                S.UnpublishedEvents.RemoveRange(0, published);
                _heartbeatDirty = true; // written with the next state write; a replay after a crash is a duplicate, not a loss
            }
        }
    }

    private async Task PublishCommandAsync(FailoverCommand command)
    {
        try
        {
            var provider = this.GetStreamProvider(ControllerStreams.ProviderName);
            await provider.GetStream<FailoverCommand>(ControllerStreams.FailoverCommandsFor(S.ClientId)).OnNextAsync(command);
            await provider.GetStream<FailoverCommand>(ControllerStreams.AllFailoverCommands).OnNextAsync(command);
        }
        catch (Exception ex)
        {
            Log.PublishFailed(logger, ex, Id);
        }
    }

    private async Task ProjectAsync(DateTimeOffset now)
    {
        try
        {
            await projection.WriteAsync(new ConnectionProjectionRecord(
                Id, S.ClientId, S.ServerId, S.Status, S.LastHeartbeat, S.HealthScore, S.FailoverTarget, S.Version, S.ServerPool,
                S.ServerAddress, S.SidecarId, S.Region, S.StatusDetail));
        }
        catch (Exception ex)
        {
            Log.ProjectionFailed(logger, ex, Id);
        }
        await UpsertIndexAsync(now);
    }

    private Task UpsertIndexAsync(DateTimeOffset now) =>
        GrainFactory.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey).Upsert(new ConnectionSummary(
            Id, S.ClientId, S.ServerPool, S.ServerId, S.Status, S.HealthScore, S.FailoverTarget, S.Version, S.LastHeartbeat, now, S.ServerAddress,
            S.SidecarId, S.Region, S.StatusDetail));
}
