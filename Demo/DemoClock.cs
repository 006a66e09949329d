using System.Diagnostics;

namespace OrleansControl.Demo;

/// <summary>Time since the demo started: every time on screen is "+12.345 s" on this clock.</summary>
internal sealed class DemoClock
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();

    public TimeSpan Now => _watch.Elapsed;

    public static string Format(TimeSpan? at) => at is { } t ? $"+{t.TotalSeconds:0.000} s" : "-";

    public static string Delta(TimeSpan? from, TimeSpan? to) =>
        from is { } f && to is { } t ? $"{(t - f).TotalMilliseconds:0} ms" : "-";
}
