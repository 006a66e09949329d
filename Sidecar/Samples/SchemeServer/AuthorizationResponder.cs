using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Samples.SchemeServer;

/// <summary>
/// The scheme side of the demo: approves every 0100/0200 (0110/0210, field 39 = 00) and acknowledges
/// 0220/0420 advices, echoing the fields a bank matches on. Counts what it answered.
/// </summary>
public sealed class AuthorizationResponder(string serverId) : IInboundHandler
{
    private static readonly int[] Echoed = [2, 3, 4, 7, 11, 12, 13, 37, 41, 42, 49];
    private long _answered;
    private long _unmatched;

    public long Answered => Interlocked.Read(ref _answered);

    public long Unmatched => Interlocked.Read(ref _unmatched);

    public ValueTask<IsoMessage?> OnRequestAsync(IsoPeer peer, IsoMessage request, CancellationToken ct)
    {
        if (!request.Mti.IsRequest)
        {
            return ValueTask.FromResult<IsoMessage?>(null);
        }

        var response = request.Spec.CreateMessage(request.Mti.ToResponse());
        foreach (var field in Echoed)
        {
            if (request.TryGet(field, out var value))
            {
                response.SetOwned(field, value);
            }
        }

        response.Set(39, "00");
        response.Set(44, serverId);
        Interlocked.Increment(ref _answered);
        return ValueTask.FromResult<IsoMessage?>(response);
    }

    public void OnUnmatchedResponse(IsoPeer peer, IsoMessage response) => Interlocked.Increment(ref _unmatched);
}
