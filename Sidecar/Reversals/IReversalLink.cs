using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Reversals;

/// <summary>What store-and-forward needs of the link: to wait for a signed-on session and to write to it.</summary>
internal interface IReversalLink
{
    Task WaitUntilUpAsync(CancellationToken ct);

    /// <summary>
    /// Writes to the signed-on session, whichever server it is on, and returns a task that completes when that session
    /// closes or another one replaces it (a move): its answer can then only come on a session that is going away, as a
    /// response comes on the session its request went out on. Null when there is none.
    /// </summary>
    Task? TrySend(IsoMessage message);
}
