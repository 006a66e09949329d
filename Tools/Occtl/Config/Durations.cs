using System.Globalization;

namespace OrleansControl.Occtl.Config;

/// <summary>Durations as operators type them: <c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>1h</c>, or <c>00:00:10</c>.</summary>
internal static class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1),
            _ when text.EndsWith('m') => (text[..^1], 60),
            _ when text.EndsWith('h') => (text[..^1], 3600),
            _ => ("", 0),
        };
        if (scale > 0 && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            value = TimeSpan.FromSeconds(n * scale);
            return true;
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value > TimeSpan.Zero;
    }

    public static TimeSpan Parse(string text, string what) =>
        TryParse(text, out var value) ? value
        : throw new OcctlException(ExitCodes.Usage, $"{what}: '{text}' is not a duration (e.g. 500ms, 10s, 5m, 1h)");

    public static string Format(TimeSpan value) =>
        value < TimeSpan.FromSeconds(1) ? $"{value.TotalMilliseconds:0}ms"
        : value < TimeSpan.FromMinutes(2) ? $"{value.TotalSeconds:0.#}s"
        : value < TimeSpan.FromHours(2) ? $"{value.TotalMinutes:0.#}m"
        : $"{value.TotalHours:0.#}h";
}
