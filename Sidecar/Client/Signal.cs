namespace OrleansControl.Sidecar.Client;

/// <summary>
/// An async auto-reset event for one loop that re-checks its state after every wake-up. Set() wakes every
/// current waiter (so a waiter abandoned by Task.WhenAny cannot swallow a wake-up meant for the loop), and
/// a Set() with nobody waiting is kept for the next wait. Waking resets it.
/// </summary>
internal sealed class Signal
{
    private TaskCompletionSource _set = New();

    public void Set() => Volatile.Read(ref _set).TrySetResult();

    /// <summary>True when set, false when the timeout passed first.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        var set = Volatile.Read(ref _set);
        try
        {
            await set.Task.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }

        Interlocked.CompareExchange(ref _set, New(), set);
        return true;
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
