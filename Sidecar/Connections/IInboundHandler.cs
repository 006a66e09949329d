using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Connections;

/// <summary>
/// What the application sees of traffic it did not ask for: the peer's requests (other than the network
/// management the link answers itself) and responses that matched nothing in flight — late ones that
/// arrive after their request timed out, or unsolicited ones. Nothing is dropped silently.
/// </summary>
public interface IInboundHandler
{
    /// <summary>A request from the peer. Return the response to send, or null to send none.</summary>
    ValueTask<IsoMessage?> OnRequestAsync(IsoPeer peer, IsoMessage request, CancellationToken ct);

    /// <summary>A response with no pending request (late or unsolicited).</summary>
    void OnUnmatchedResponse(IsoPeer peer, IsoMessage response);
}

/// <summary>Who sent an inbound message.</summary>
/// <param name="SessionId">The socket session it arrived on.</param>
/// <param name="Remote">The peer's address.</param>
/// <param name="ClientId">On a server: the institution id from the client's sign-on, if any.</param>
public sealed record IsoPeer(long SessionId, string Remote, string? ClientId);

/// <summary>An inbound handler built from delegates; unhandled requests get no answer, unmatched responses are ignored after counting.</summary>
public sealed class DelegateInboundHandler(
    Func<IsoPeer, IsoMessage, CancellationToken, ValueTask<IsoMessage?>>? onRequest = null,
    Action<IsoPeer, IsoMessage>? onUnmatched = null) : IInboundHandler
{
    public ValueTask<IsoMessage?> OnRequestAsync(IsoPeer peer, IsoMessage request, CancellationToken ct) =>
        onRequest?.Invoke(peer, request, ct) ?? ValueTask.FromResult<IsoMessage?>(null);

    public void OnUnmatchedResponse(IsoPeer peer, IsoMessage response) => onUnmatched?.Invoke(peer, response);
}
