using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Reversals;

/// <summary>What store-and-forward needs of the link: to wait for a signed-on session and to write to it.</summary>
internal interface IReversalLink
{
    Task WaitUntilUpAsync(CancellationToken ct);

    /// <summary>Writes to the signed-on session, whichever server it is on; false when there is none.</summary>
    bool TrySend(IsoMessage message);
}
