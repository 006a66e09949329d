using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace OrleansControl.Sidecar.Connections;

/// <summary>host:port, as the controller and configuration spell a server address.</summary>
public readonly record struct IsoEndpoint(string Host, int Port)
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out IsoEndpoint? endpoint, bool allowPortZero = false)
    {
        endpoint = null;
        var colon = text?.LastIndexOf(':') ?? -1;
        if (text is null || colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535 || (port == 0 && !allowPortZero))
        {
            return false;
        }

        endpoint = new IsoEndpoint(text[..colon].Trim('[', ']'), port);
        return true;
    }

    public static IsoEndpoint Parse(string text) =>
        TryParse(text, out var e) ? e.Value : throw new FormatException($"'{text}' is not host:port");

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
