using Microsoft.Extensions.Logging;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// The death window (docs/grains.md): a grain on a silo that died answers nobody until membership declares the silo
/// dead, and this grain is not reentrant, so one call that waits there holds up every failure report queued behind it.
/// The rule: nothing this grain does waits for another grain longer than <see cref="ConnectionHealthOptions.PoolCallDeadline"/>.
/// Work a late call leaves undone is kept and done again, never reported as done: a move's command stays not-queued
/// (persisted with the move) and the wake-up timer offers it again; a status event stays pending; a health report,
/// superseded by the next one, is counted as dropped. A late call is never sent a second time while it is still out
/// (the first may yet land).
/// </summary>
public sealed partial class ConnectionGrain
{
    /// <summary>The health report still out, if any: the next one is not sent while it is (and counts as dropped).</summary>
    private Task? _healthReportOut;

    /// <summary>A status event publish that missed the deadline and is still out: not retried until it has finished.</summary>
    private Task? _publishOut;

    /// <summary>The move command's Enqueue still out, and its command id.</summary>
    private (string CommandId, Task<long> Call)? _enqueueOut;

    /// <summary>
    /// True when <paramref name="call"/> finished (successfully or not) within the deadline. False on the deadline or
    /// when the callee's silo cannot be reached; the call's own outcome is then observed and dropped.
    /// </summary>
    private async Task<bool> FinishedInTimeAsync(Task call)
    {
        try
        {
            await call.WaitAsync(_options.PoolCallDeadline);
            return true;
        }
        catch (TimeoutException)
        {
        }
        catch (Exception ex) when (ex is SiloUnavailableException or OrleansMessageRejectionException)
        {
        }
        catch (Exception)
        {
            return true; // the callee answered with an error: the caller sees it
        }
        Observe(call);
        return false;
    }

    /// <summary>The same, for a call whose answer is needed: the answer, or false when it did not come in time.</summary>
    private async Task<(bool InTime, T? Value)> AnswerInTimeAsync<T>(Task<T> call)
    {
        if (!await FinishedInTimeAsync(call))
            return (false, default);
        return (true, await call);
    }

    private static void Observe(Task call) =>
        _ = call.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    [LoggerMessage(EventId = 3060, Level = LogLevel.Warning,
        Message = "Connection {ConnectionId}: sidecar {SidecarId}'s outbox did not take the move command {CommandId} within {DeadlineMs} ms; offered again when that call ends, or in 1 s")]
    private partial void LogEnqueueLate(string connectionId, string sidecarId, string commandId, long deadlineMs);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information,
        Message = "Connection {ConnectionId}: the late Enqueue of move command {CommandId} ended ({How}); offered again now")]
    private partial void LogEnqueueEnded(string connectionId, string commandId, string how);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId}: could not arm the wake-up after a late Enqueue ended ({Error})")]
    private partial void LogWakeupNotArmed(string connectionId, string error);

    [LoggerMessage(EventId = 3061, Level = LogLevel.Debug,
        Message = "Connection {ConnectionId}: {Call} to {Grain} did not answer within {DeadlineMs} ms; not waiting for it")]
    private partial void LogCallLate(string connectionId, string call, string grain, long deadlineMs);
}
