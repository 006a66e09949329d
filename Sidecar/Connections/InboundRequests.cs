using Microsoft.Extensions.Logging;
using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Connections;

/// <summary>
/// Runs the application's handler for a peer request and writes its response. A handler that completes
/// synchronously answers inline (no task per message on the hot path); a slow one does not hold up the
/// read loop, so later responses keep flowing while it works.
/// </summary>
internal static class InboundRequests
{
    public static void Dispatch(IsoSession session, IsoPeer peer, IsoMessage request, IInboundHandler handler, ILogger logger, CancellationToken ct)
    {
        ValueTask<IsoMessage?> pending;
        try
        {
            pending = handler.OnRequestAsync(peer, request, ct);
        }
        catch (Exception ex)
        {
            Log.InboundHandlerFailed(logger, IsoWire.MtiOf(request), ex);
            return;
        }

        if (pending.IsCompletedSuccessfully)
        {
            if (pending.Result is { } response)
            {
                session.TrySend(response);
            }

            return;
        }

        _ = AwaitAsync(session, request, pending, logger);
    }

    private static async Task AwaitAsync(IsoSession session, IsoMessage request, ValueTask<IsoMessage?> pending, ILogger logger)
    {
        try
        {
            if (await pending.ConfigureAwait(false) is { } response)
            {
                session.TrySend(response);
            }
        }
        catch (Exception ex)
        {
            Log.InboundHandlerFailed(logger, IsoWire.MtiOf(request), ex);
        }
    }
}
