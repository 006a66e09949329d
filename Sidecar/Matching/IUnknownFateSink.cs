namespace OrleansControl.Sidecar.Matching;

/// <summary>
/// Takes written requests that end without an answer (timeout, session lost, cancelled after the write): the ones
/// whose fate is unknown. The matcher calls <see cref="Reserve"/> before it removes the request, then either
/// <see cref="Release"/> (a response got there first) or <see cref="TakeOver"/>.
/// </summary>
internal interface IUnknownFateSink<TMessage>
    where TMessage : class
{
    /// <summary>True when this request is one the sink handles (e.g. its MTI is reversed); it may still be answered first.</summary>
    bool Reserve(PendingRequest<TMessage> pending);

    /// <summary>The reserved request was completed by someone else after all (its response won the race).</summary>
    void Release(PendingRequest<TMessage> pending);

    /// <summary>The reserved request is removed and failed with <paramref name="error"/>; true when the sink completes it itself.</summary>
    bool TakeOver(PendingRequest<TMessage> pending, Exception error);
}
