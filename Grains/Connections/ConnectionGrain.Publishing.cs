using Microsoft.Extensions.Logging;
using Orleans.Runtime;
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
    private bool _healthReportFailing;

    /// <summary>The event of a change, kept in the state written with the change: a publish that fails is retried, never lost.</summary>
    private void QueueStatusEvent(ConnectionStatus from, ConnectionStatus to, string reason, DateTimeOffset at) =>
        QueueEvent(ControllerStreams.StatusNamespace, Id, new ConnectionStatusChanged(Id, S.ClientId, S.ServerId, from, to, S.Version,
            S.HealthScore, S.FailoverTarget, reason, at, S.SidecarId, S.Region, S.ServerAddress, S.ServerPool, S.StatusDetail, S.Incarnation));

    /// <summary>
    /// Puts an event into the outbox kept in the state: it is persisted with the next state write (callers queue before
    /// the write of the change it describes) and published in order by <see cref="PublishPendingEventsAsync"/>.
    /// </summary>
    private void QueueEvent(string streamNamespace, string key, object data, bool alsoAll = true)
    {
        S.PendingEvents.Add(new PendingEvent(streamNamespace, key, data, alsoAll));
        if (S.PendingEvents.Count > MaxUnpublishedEvents)
        {
            // The provider has refused events for a long time: drop the oldest, loudly (the state itself is intact).
            var dropped = S.PendingEvents.Count - MaxUnpublishedEvents;
            S.PendingEvents.RemoveRange(0, dropped);
            Log.EventsDropped(logger, Id, dropped);
            metrics.EventsDropped(dropped);
        }
    }

    /// <summary>Status events an earlier version left in its own outbox go first, in order.</summary>
    private void LiftLegacyOutbox()
    {
        if (S.UnpublishedEvents.Count == 0)
            return;
        S.PendingEvents.InsertRange(0, S.UnpublishedEvents.Select(e => new PendingEvent(ControllerStreams.StatusNamespace, e.ConnectionId, e, true)));
        S.UnpublishedEvents.Clear();
    }

    /// <summary>Publishes the pending events in order; stops at the first refusal and retries on the wake-up timer.</summary>
    /// <param name="retry">From the wake-up timer: tries even while the provider is known late (a transition does not wait
    /// on it again: the timer retries within a second).</param>
    private async Task PublishPendingEventsAsync(bool retry = false)
    {
        if (S.PendingEvents.Count == 0 || (_publishFailing && !retry))
            return;
        if (_publishOut is { IsCompleted: false })
        {
            ScheduleWakeup(TimeSpan.FromSeconds(1)); // the late attempt may yet land: not sent again while it is out
            return;
        }
        var provider = this.GetStreamProvider(ControllerStreams.ProviderName);
        var published = 0;
        try
        {
            // Bounded like the pool calls: a stream queue on a silo that died but is not declared dead yet must not hold
            // up the transition (the event stays pending and is retried; a late first attempt makes a duplicate, which
            // consumers drop by the event's id).
            foreach (var evt in S.PendingEvents)
            {
                await InTimeOrThrowAsync(provider.GetStream<object>(StreamId.Create(evt.Namespace, evt.Key)).OnNextAsync(evt.Data));
                if (evt.AlsoAll)
                    await InTimeOrThrowAsync(provider.GetStream<object>(ControllerStreams.AllOf(evt.Namespace)).OnNextAsync(evt.Data));
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
                S.PendingEvents.RemoveRange(0, published);
                _heartbeatDirty = true; // written with the next state write; a replay after a crash is a duplicate, not a loss
            }
        }
    }

    /// <summary>One publish, bounded by the deadline; a late one is remembered (<see cref="_publishOut"/>) and throws.</summary>
    private async Task InTimeOrThrowAsync(Task publish)
    {
        try
        {
            await publish.WaitAsync(_options.PoolCallDeadline);
        }
        catch (TimeoutException)
        {
            _publishOut = publish;
            Observe(publish);
            throw;
        }
    }

    /// <summary>
    /// Monitoring data, superseded by the next report: published straight away, not through the outbox (an outage must
    /// not fill the outbox with health samples), and not waited for (its stream queue may be on a silo in its death
    /// window, and the timer tick that sends it must not hold up a failure report). One at a time: while one is still
    /// out the next is not sent. A sample not sent, refused or lost is counted as dropped and logged once per streak.
    /// </summary>
    private void PublishHealthReport(DateTimeOffset now)
    {
        if (_healthReportOut is { IsCompleted: false })
        {
            HealthReportDropped(null);
            return;
        }
        var report = new ConnectionHealthReport(Id, S.ClientId, S.ServerId, S.Status, S.HealthScore, S.LastEchoRttMs, S.LastErrorCount,
            S.LastTimeoutCount, S.LastHeartbeat, S.Region, now);
        Task call;
        try
        {
            call = this.GetStreamProvider(ControllerStreams.ProviderName).GetStream<ConnectionHealthReport>(ControllerStreams.HealthReportsOf(Id))
                .OnNextAsync(report);
        }
        catch (Exception ex)
        {
            HealthReportDropped(ex);
            return;
        }
        // Observed on this activation's scheduler (the flag is the grain's), between turns, never holding one up.
        _healthReportOut = call.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully)
                _healthReportFailing = false;
            else
                HealthReportDropped(t.Exception?.GetBaseException());
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Current);
    }

    private void HealthReportDropped(Exception? ex)
    {
        metrics.EventsDropped(1);
        if (!_healthReportFailing)
        {
            if (ex is null) LogHealthReportStillOut(Id);
            else Log.PublishFailed(logger, ex, Id);
        }
        _healthReportFailing = true;
    }

    private async Task ProjectAsync(DateTimeOffset now)
    {
        try
        {
            await projection.WriteAsync(new ConnectionProjectionRecord(
                Id, S.ClientId, S.ServerId, S.Status, S.LastHeartbeat, S.HealthScore, S.FailoverTarget, S.Version, S.ServerPool,
                S.ServerAddress, S.SidecarId, S.Region, S.StatusDetail, now));
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
            S.SidecarId, S.Region, S.StatusDetail, RegisteredAt: S.RegisteredAt, ActivatedAt: _activatedAt, Incarnation: S.Incarnation));

    [LoggerMessage(EventId = 3062, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: the previous health report is still out (its stream queue does not answer); health reports are dropped until it returns")]
    private partial void LogHealthReportStillOut(string connectionId);
}
