using Grpc.Core;
using Microsoft.Extensions.Logging;
using OrleansControl.Contract.V1;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Sidecars;

// Attaching to the sidecar's outbox without waiting on a dead silo: the outbox grain may live on a silo that died and is
// not declared dead yet (seconds), and a sidecar whose stream waits for it cannot report its link meanwhile.
internal sealed partial class SidecarSession
{
    /// <summary>How long the stream waits for the outbox before attaching the sidecar without it (a healthy one answers in milliseconds).</summary>
    private static readonly TimeSpan OutboxWait = TimeSpan.FromMilliseconds(500);

    private Attached AttachedWith(OutboxAttachment attachment)
    {
        _epoch = attachment.Epoch;
        _lastSent = attachment.AckedSequence;
        _outboxAttached = true;
        LogAttached(sidecarId, attachment.AckedSequence, attachment.Pending.Length);
        var attached = new Attached
        {
            SidecarId = sidecarId,
            ResumedAfter = (ulong)attachment.AckedSequence,
            PendingCommands = attachment.Pending.Length,
            HeartbeatIntervalMs = (int)options.HeartbeatInterval.TotalMilliseconds,
            OutboxIncarnation = attachment.Incarnation,
        };
        attached.Gateways.AddRange(gateways.Current);
        return attached;
    }

    /// <summary>Attached before the outbox answered: the sidecar's own last ack echoed, no incarnation (it keeps its own), no commands yet.</summary>
    private Attached Provisional(long lastAckedSequence)
    {
        var attached = new Attached
        {
            SidecarId = sidecarId,
            ResumedAfter = (ulong)lastAckedSequence,
            HeartbeatIntervalMs = (int)options.HeartbeatInterval.TotalMilliseconds,
        };
        attached.Gateways.AddRange(gateways.Current);
        return attached;
    }

    /// <summary>
    /// The outbox that did not answer in time: awaited (and asked again while its silo cannot be reached) for as long as
    /// the stream lasts; then the sidecar gets the full Attached and the pending commands, in that order.
    /// </summary>
    private async Task AttachOutboxLateAsync(Task<OutboxAttachment> attaching, long lastAckedSequence, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var retry = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                var attachment = await attaching.WaitAsync(ct);
                _down.Writer.TryWrite(new ControllerMessage { Attached = AttachedWith(attachment) });
                LogOutboxAttachedLate(sidecarId, (long)clock.Elapsed.TotalMilliseconds);
                Send(attachment.Pending);
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not OperationCanceledException)
            {
                LogOutboxAttachFailed(sidecarId, e.GetType().Name, (long)retry.TotalMilliseconds);
                await Task.Delay(retry, ct);
                retry = TimeSpan.FromMilliseconds(500); // one call per stream per half second: the commands must not lag the outbox's return
                attaching = _attaching = _outbox.Attach(lastAckedSequence, _reference!);
            }
        }
    }

    /// <summary>True when the call completed (either way) within <paramref name="wait"/>; its outcome is then the caller's to see.</summary>
    private static async Task<bool> AnsweredWithinAsync(Task call, TimeSpan wait)
    {
        try
        {
            await call.WaitAsync(wait);
            return true;
        }
        catch (TimeoutException) when (!call.IsCompleted)
        {
            return false;
        }
        catch (Exception) when (call.IsFaulted && IsUnreachable(call.Exception!.GetBaseException()))
        {
            return false; // the outbox's silo cannot be reached: asked again in the background
        }
        catch (Exception)
        {
            return true; // answered with an error: the caller sees it, as before
        }
    }

    private static bool IsUnreachable(Exception e) => e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;

    private async Task DetachWhenAttachedAsync(Task<OutboxAttachment> late)
    {
        try
        {
            var attachment = await late;
            await _outbox.Detach(attachment.Epoch);
        }
        catch (Exception e)
        {
            LogDetachFailed(e, sidecarId);
        }
    }

    [LoggerMessage(EventId = 3080, Level = LogLevel.Warning, Message = "Sidecar {SidecarId}: its outbox did not answer within {WaitMs} ms (its silo may be dying); attached without it, commands follow when it answers")]
    private partial void LogOutboxLate(string sidecarId, long waitMs);

    [LoggerMessage(EventId = 3081, Level = LogLevel.Information, Message = "Sidecar {SidecarId}: its outbox answered {ElapsedMs} ms after the provisional attach; commands resume")]
    private partial void LogOutboxAttachedLate(string sidecarId, long elapsedMs);

    [LoggerMessage(EventId = 3083, Level = LogLevel.Warning, Message = "Sidecar {SidecarId}: the outbox call failed ({Error}); the stream stays up, asking again every {RetryMs} ms")]
    private partial void LogPullFailed(string sidecarId, string error, long retryMs);

    [LoggerMessage(EventId = 3084, Level = LogLevel.Information, Message = "Sidecar {SidecarId}: the outbox answers again; commands resume")]
    private partial void LogPullRecovered(string sidecarId);

    [LoggerMessage(EventId = 3082, Level = LogLevel.Debug, Message = "Sidecar {SidecarId}: outbox attach failed ({Error}); asking again in {RetryMs} ms")]
    private partial void LogOutboxAttachFailed(string sidecarId, string error, long retryMs);
}
