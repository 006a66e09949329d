namespace OrleansControl.EndToEnd.Tests;

/// <summary>Polling with a timeout: the only way these tests wait. A timeout fails with the last value seen.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(25);

    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null,
        Func<string>? diagnostics = null, TimeSpan? poll = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        var last = default(T);
        Exception? error = null;
        while (true)
        {
            try
            {
                last = await probe();
                error = null;
                if (done(last))
                {
                    return last;
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or System.Text.Json.JsonException)
            {
                error = e; // the process is not (yet, or no longer) answering
            }

            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"timed out after {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s waiting for: {what}" +
                    $"{Environment.NewLine}last seen: {(error is null ? last?.ToString() ?? "nothing" : error.Message)}" +
                    (diagnostics is null ? "" : Environment.NewLine + diagnostics()));
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(50));
        }
    }
}
