using Microsoft.Extensions.Logging;
using Orleans.Storage;
using OrleansControl.GrainInterfaces.Errors;
using StackExchange.Redis;

namespace OrleansControl.Grains.Hosting;

/// <summary>
/// One rule for every grain: a storage fault leaves the call as <see cref="StorageUnavailableException"/> (retryable,
/// UNAVAILABLE at the gateway) instead of a raw provider exception the gateway could only call INTERNAL (grain
/// storage failures are typed already by <see cref="StorageFaultTranslation"/>; this adds reminders and etag conflicts). A write the
/// store refused because its stored state is not the one this activation read (etag conflict: Redis restarted empty,
/// was restored, or another activation wrote) also ends the activation, so the next call reads what is stored.
/// </summary>
internal sealed partial class StorageFaultFilter(ILogger<StorageFaultFilter> logger) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (e is not StorageUnavailableException && Classify(e) is { } fault)
        {
            var grain = context.TargetId.ToString();
            if (fault.Typed is { } typed)
                throw typed; // the storage wrapper's own, wrapped by the runtime: handed on as it is
            if (fault.StateChangedUnderneath)
            {
                LogStateChanged(logger, grain, context.MethodName);
                context.TargetContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError,
                    "stored state changed underneath this activation; reload"));
            }
            else
            {
                LogUnreachable(logger, grain, context.MethodName, fault.Reason);
            }
            throw new StorageUnavailableException(grain, fault.Reason, e);
        }
    }

    /// <summary>The storage fault in <paramref name="e"/> or its inner exceptions; null when it is not one.</summary>
    internal static (string Reason, bool StateChangedUnderneath, StorageUnavailableException? Typed)? Classify(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case InconsistentStateException:
                    return ("the stored state is not the one this activation read: storage was lost or replaced", true, null);
                case StorageUnavailableException typed:
                    return (typed.Reason, false, typed);
                case RedisException: // reminders and other direct Redis use
                    return ($"{x.GetType().Name}: Redis did not answer", false, null);
            }
        }
        return null;
    }

    [LoggerMessage(3101, LogLevel.Warning, "{Grain}.{Method}: stored state changed underneath the activation (storage lost or replaced); deactivating it")]
    private static partial void LogStateChanged(ILogger logger, string grain, string method);

    [LoggerMessage(3102, LogLevel.Warning, "{Grain}.{Method}: storage unavailable ({Reason})")]
    private static partial void LogUnreachable(ILogger logger, string grain, string method, string reason);
}
