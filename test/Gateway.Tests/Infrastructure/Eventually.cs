namespace OrleansControl.Gateway.Tests.Infrastructure;

internal static class Eventually
{
    /// <summary>Polls until <paramref name="condition"/> holds (soft state such as the connection index lags a little).</summary>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var value = await probe();
            if (condition(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"condition not met in time; last value: {value}");
            await Task.Delay(50);
        }
    }
}
