using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Samples.SchemeServer;

/// <summary>
/// The scheme side of the demo: approves every 0100/0200 (0110/0210, field 39 = 00) and acknowledges advices and
/// reversals — 0220, 0420 and the repeats 0221, 0421 — with 0230/0430, echoing the fields a bank matches on.
/// Counts what it answered.
/// </summary>
public sealed class AuthorizationResponder(string serverId) : IInboundHandler
{
    private static readonly int[] Echoed = [2, 3, 4, 7, 11, 12, 13, 37, 41, 42, 49, 90];
    private long _answered;
    private long _reversals;
    private long _unmatched;

    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Reversals acknowledged (0420s and 0421 repeats, each counted).</summary>
    public long Reversals => Interlocked.Read(ref _reversals);

    public long Unmatched => Interlocked.Read(ref _unmatched);

    public ValueTask<IsoMessage?> OnRequestAsync(IsoPeer peer, IsoMessage request, CancellationToken ct)
    {
        if (!request.Mti.IsRequest)
        {
            return ValueTask.FromResult<IsoMessage?>(null);
        }

        var response = request.Spec.CreateMessage(ResponseMti(request.Mti));
        foreach (var field in Echoed)
        {
            if (request.TryGet(field, out var value))
            {
                response.SetOwned(field, value);
            }
        }

        response.Set(39, "00");
        response.Set(44, serverId);
        Interlocked.Increment(ref request.Mti.Class == 4 ? ref _reversals : ref _answered);
        return ValueTask.FromResult<IsoMessage?>(response);
    }

    /// <summary>The answer to a request or its repeat: function + 1, origin back to the first transmission's (0421 → 0430).</summary>
    public static Mti ResponseMti(Mti request) => new(request.Value - request.Value % 2 + 10);

    public void OnUnmatchedResponse(IsoPeer peer, IsoMessage response) => Interlocked.Increment(ref _unmatched);
}
