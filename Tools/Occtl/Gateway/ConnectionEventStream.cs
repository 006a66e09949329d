using Grpc.Core;
using OrleansControl.Contract.V1;

namespace OrleansControl.Occtl.Gateway;

/// <summary>
/// WatchConnections as an operator needs it: from now on (the contract replays nothing), until Ctrl-C or a count of
/// events, and through a gateway restart: a stream that was up and is lost is opened again with backoff, saying
/// that events in the gap were missed. A stream that cannot be opened at all is a failure (exit 5, 6, ...).
/// </summary>
internal sealed class ConnectionEventStream(OcctlSession session)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Runs until <paramref name="ct"/> is cancelled (exit 0) or <paramref name="count"/> events were shown
    /// (<paramref name="onEvent"/> returns false for one it skipped).
    /// </summary>
    public async Task<int> RunAsync(WatchConnectionsRequest request, Func<ConnectionEvent, bool> onEvent, int? count,
        Func<bool, Task>? onSubscribed, CancellationToken ct)
    {
        var received = 0;
        var subscribedOnce = false;
        var backoff = TimeSpan.FromSeconds(1);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var call = session.Controller.WatchConnections(request, cancellationToken: ct);
                // The gateway sends headers once its subscription is in place: from here no event is missed.
                await call.ResponseHeadersAsync;
                if (onSubscribed is not null) await onSubscribed(subscribedOnce);
                if (subscribedOnce) session.Note("occtl: watching again; events while the stream was down were missed");
                subscribedOnce = true;
                backoff = TimeSpan.FromSeconds(1);
                await foreach (var e in call.ResponseStream.ReadAllAsync(ct))
                {
                    if (onEvent(e) && count is { } n && ++received >= n) return ExitCodes.Ok;
                }
                session.Note("occtl: the gateway ended the stream; opening it again");
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is RpcException or OperationCanceledException)
            {
                return ExitCodes.Ok;
            }
            catch (RpcException e)
            {
                var failure = session.Failure(e, "WatchConnections");
                if (!subscribedOnce || failure.ExitCode != ExitCodes.Unreachable) throw failure;
                session.Note($"occtl: {failure.Message}; trying again in {Config.Durations.Format(backoff)}");
            }

            try
            {
                await Task.Delay(backoff, ct);
            }
            catch (OperationCanceledException)
            {
                return ExitCodes.Ok;
            }
            backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
        }
        return ExitCodes.Ok;
    }
}
