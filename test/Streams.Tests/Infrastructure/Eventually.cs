namespace OrleansControl.Streams.Tests.Infrastructure;

public static class Eventually
{
    /// <summary>Polls until the condition holds or the timeout passes; returns whether it held.</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
                return false;
            await Task.Delay(100);
        }
        return true;
    }
}
