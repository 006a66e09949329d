using System.Net;
using StackExchange.Redis;

namespace OrleansControl.Silo.Extensions;

/// <summary>
/// The one place the silo's Redis client configuration is made, so clustering, grain storage, reminders and the
/// projection connect alike (TLS included), and the one rule for what a Redis off loopback must have.
/// </summary>
public static class ControllerRedis
{
    /// <summary>How the committed secrets of deploy/ begin (<c>REPLACE-ME-run-deploy-make-secrets.sh</c>): never a usable value.</summary>
    public const string PlaceholderPrefix = "REPLACE-ME";

    /// <summary>A fresh configuration per caller (providers keep and may change theirs): the connection string plus <see cref="RedisTlsOptions"/>.</summary>
    public static ConfigurationOptions Configuration(ControllerSiloOptions o)
    {
        var configuration = ConfigurationOptions.Parse(o.Redis!);
        var tls = o.RedisTls ?? new();
        if (!tls.Enabled)
            return configuration;
        configuration.Ssl = true;
        if (!string.IsNullOrEmpty(tls.Host))
            configuration.SslHost = tls.Host;
        if (!string.IsNullOrEmpty(tls.CaPath))
            configuration.TrustIssuer(tls.CaPath);
        if (!string.IsNullOrEmpty(tls.CertificatePath))
            configuration.SetUserPemCertificate(tls.CertificatePath, tls.KeyPath);
        return configuration;
    }

    /// <summary>
    /// Why <paramref name="connectionString"/> is not fit to use, or null. A Redis on any address but loopback needs
    /// TLS (<c>ssl=true</c> or <c>RedisTls:Enabled</c>) and AUTH (<c>password=</c>), unless <c>RedisTls:AllowInsecure</c>:
    /// the same stance as the gateway's and the silo ports' refusal of plain text off loopback.
    /// </summary>
    public static string? FindProblem(string connectionString, RedisTlsOptions tls, string prefix)
    {
        ConfigurationOptions parsed;
        try
        {
            parsed = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException ex)
        {
            return $"{prefix}Redis is not a valid StackExchange.Redis connection string: {ex.Message}";
        }
        if (parsed.EndPoints.Count == 0)
            return $"{prefix}Redis names no host:port";
        if (parsed.Password?.StartsWith(PlaceholderPrefix, StringComparison.Ordinal) == true)
            return $"{prefix}Redis carries the placeholder password shipped in deploy/overlays/*/secrets/redis.env; " +
                   "generate secrets with deploy/make-secrets.sh (deploy/README.md) or set the password from your secret store";
        var remote = parsed.EndPoints.Where(e => !IsLoopback(e)).Select(EndPointCollection.ToString).ToList();
        if (remote.Count == 0 || tls.AllowInsecure)
            return null;
        var missing = new List<string>();
        if (!parsed.Ssl && !tls.Enabled)
            missing.Add($"TLS ({prefix}RedisTls:Enabled=true, or ssl=true in {prefix}Redis)");
        if (string.IsNullOrEmpty(parsed.Password))
            missing.Add($"AUTH (password=… in {prefix}Redis)");
        return missing.Count == 0 ? null
            : $"{prefix}Redis points at {string.Join(", ", remote)}, not loopback, without {string.Join(" and ", missing)}; " +
              $"configure them, or set {prefix}RedisTls:AllowInsecure=true for local experiments only";
    }

    private static bool IsLoopback(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
        DnsEndPoint dns => dns.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                           || (IPAddress.TryParse(dns.Host, out var address) && IPAddress.IsLoopback(address)),
        _ => false,
    };
}
