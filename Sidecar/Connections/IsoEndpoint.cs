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

    /// <summary>
    /// An IP endpoint as host:port with an IPv4-mapped IPv6 address written as IPv4, so the two ends of one TCP session
    /// name it alike (a dual-mode client socket says [::ffff:10.0.0.5]:4100, an IPv4 listener 10.0.0.5:4100).
    /// </summary>
    public static string? Normalize(System.Net.EndPoint? endpoint) => endpoint switch
    {
        System.Net.IPEndPoint ip => new IsoEndpoint((ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString(), ip.Port).ToString(),
        null => null,
        _ => endpoint.ToString(),
    };

    /// <summary>The same for an endpoint already written out (anything that is not an IP endpoint is kept as it is).</summary>
    public static string Normalize(string endpoint) =>
        System.Net.IPEndPoint.TryParse(endpoint, out var ip) ? Normalize(ip)! : endpoint;

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
