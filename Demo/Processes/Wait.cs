namespace OrleansControl.Demo.Processes;

/// <summary>Polling with a timeout: how the demo waits for a process to be ready. A timeout names what it waited for.</summary>
internal static class Wait
{
    public static async Task Until(Func<Task<bool>> probe, string what, TimeSpan timeout, Func<string>? diagnostics,
        CancellationToken ct, TimeSpan? poll = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? error = null;
        while (true)
        {
            try
            {
                if (await probe())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or System.Text.Json.JsonException)
            {
                error = e; // not (yet) answering
            }

            ct.ThrowIfCancellationRequested();
            if (DateTime.UtcNow >= deadline)
            {
                throw new DemoException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}" +
                    (error is null ? "" : $" (last error: {error.Message})") +
                    (diagnostics is null ? "" : Environment.NewLine + diagnostics()));
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(100), ct);
        }
    }
}
