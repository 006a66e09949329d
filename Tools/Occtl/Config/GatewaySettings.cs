using System.CommandLine;
using System.Net;

namespace OrleansControl.Occtl.Config;

/// <summary>
/// Where the gateway is and how to authenticate, resolved per setting in this order: the flag, the OCCTL_*
/// environment variable, the selected context of the config file, the development default.
/// </summary>
internal sealed record GatewaySettings(
    Uri Gateway,
    string? Token,
    string? ClientCertificate,
    string? ClientCertificatePassword,
    string? TrustedCa,
    TimeSpan RequestTimeout,
    string? ContextName,
    IReadOnlyList<string> Pools)
{
    public static readonly Uri DevelopmentGateway = new("http://127.0.0.1:9090");
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    public static GatewaySettings Resolve(ParseResult parse, GlobalOptions o, OcctlHost host)
    {
        var path = ConfigPath.Resolve(parse.GetValue(o.ConfigFile), host);
        var file = OcctlConfigFile.Load(path);
        var (contextName, context) = SelectContext(parse.GetValue(o.Context) ?? host.Env("OCCTL_CONTEXT"), file, path);
        string? FromFile(string? value) => value is null ? null : path.ResolveRelative(value, host);

        var certificate = parse.GetValue(o.Certificate) ?? host.Env("OCCTL_CERT") ?? FromFile(context?.ClientCertificate);
        var trustedCa = parse.GetValue(o.TrustedCa) ?? host.Env("OCCTL_CA") ?? FromFile(context?.TrustedCa);
        var password = parse.GetValue(o.CertificatePassword) ?? host.Env("OCCTL_CERT_PASSWORD") ?? context?.ClientCertificatePassword;
        var token = parse.GetValue(o.Token) ?? ReadTokenFile(parse.GetValue(o.TokenFile), "--token-file", host)
            ?? host.Env("OCCTL_TOKEN") ?? ReadTokenFile(host.Env("OCCTL_TOKEN_FILE"), "OCCTL_TOKEN_FILE", host)
            ?? context?.Token ?? ReadTokenFile(FromFile(context?.TokenFile), $"context '{contextName}' tokenFile", host);

        var timeout = parse.GetValue(o.RequestTimeout)
            ?? (host.Env("OCCTL_REQUEST_TIMEOUT") is { } t ? Durations.Parse(t, "OCCTL_REQUEST_TIMEOUT") : (TimeSpan?)null)
            ?? (context?.RequestTimeout is { } c ? Durations.Parse(c, $"context '{contextName}' requestTimeout") : DefaultRequestTimeout);

        var (address, origin) = parse.GetValue(o.Gateway) is { } flag ? (flag, "--gateway")
            : host.Env("OCCTL_GATEWAY") is { } env ? (env, "OCCTL_GATEWAY")
            : context?.Gateway is { } fromContext ? (fromContext, $"context '{contextName}' gateway")
            : (DevelopmentGateway.ToString(), "default");
        var gateway = ParseAddress(address, origin, tls: certificate is not null || trustedCa is not null);

        if (token is not null && gateway.Scheme == Uri.UriSchemeHttp && !IsLoopback(gateway))
        {
            throw new OcctlException(ExitCodes.Usage,
                $"{origin}: {gateway} is plain http on a non-loopback host; occtl sends a bearer token only over https");
        }
        return new GatewaySettings(gateway, token, certificate, password, trustedCa, timeout, contextName, context?.Pools ?? []);
    }

    private static (string? Name, OcctlContext? Context) SelectContext(string? requested, OcctlConfigFile? file, ConfigPath path)
    {
        var name = requested ?? file?.CurrentContext;
        if (name is null) return (null, null);
        if (file is not null && file.Contexts.TryGetValue(name, out var context)) return (name, context);
        var known = file is null || file.Contexts.Count == 0 ? "it has none" : "known: " + string.Join(", ", file.Contexts.Keys.Order());
        var where = file is null ? $"no config file at {path.Path}" : $"not in {path.Path} ({known})";
        throw new OcctlException(ExitCodes.NotFound, $"context '{name}': {where}");
    }

    private static string? ReadTokenFile(string? path, string origin, OcctlHost host)
    {
        if (path is null) return null;
        try
        {
            var token = File.ReadAllText(ConfigPath.Expand(path, host)).Trim();
            return token.Length > 0 ? token : throw new OcctlException(ExitCodes.Usage, $"{origin}: {path} is empty");
        }
        catch (IOException e)
        {
            throw new OcctlException(ExitCodes.Usage, $"{origin}: cannot read {path}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new OcctlException(ExitCodes.Usage, $"{origin}: cannot read {path}: {e.Message}");
        }
    }

    /// <summary><c>https://host:port</c>, <c>http://host:port</c>, or <c>host:port</c> (https when a certificate or CA is set).</summary>
    private static Uri ParseAddress(string value, string origin, bool tls)
    {
        var text = value.Contains("://", StringComparison.Ordinal) ? value : (tls ? "https://" : "http://") + value;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query))
        {
            throw new OcctlException(ExitCodes.Usage, $"{origin}: '{value}' is not a gateway address (http[s]://host:port)");
        }
        return uri;
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
