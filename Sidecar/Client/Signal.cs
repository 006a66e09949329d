namespace OrleansControl.Sidecar.Client;

/// <summary>An async auto-reset event: many Set()s before a wait collapse into one wake-up.</summary>
internal sealed class Signal
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Set()
    {
        try
        {
            _semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>True when set, false when the timeout passed first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _semaphore.WaitAsync(timeout, ct);
}
