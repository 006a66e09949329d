using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;

namespace OrleansControl.Sidecar.Agent;

/// <summary>
/// How a sidecar's controller client proves who it is and whom it trusts: a bearer token (or a file holding one), a
/// private CA for the gateways' certificates, a client certificate. The same settings, checks and TLS code for every
/// client of the controller in the sidecar: the agent (<see cref="SidecarAgentOptions"/>) and the server side's session
/// reporter (<see cref="Server.ServerSessionReportOptions"/>).
/// </summary>
public abstract class ControllerAccessOptions
{
    /// <summary>How deploy/'s committed secrets begin (<c>REPLACE-ME-run-deploy-make-secrets.sh</c>).</summary>
    public const string PlaceholderPrefix = "REPLACE-ME";

    /// <summary>Where these settings are configured (e.g. <c>Sidecar:Agent</c>), for messages that name the fix.</summary>
    public abstract string SettingsPrefix { get; }

    /// <summary>
    /// The gateways' gRPC addresses, comma-separated (e.g. http://gw-1:9090,http://gw-2:9090): every gateway of the
    /// controller cluster, not one. Empty: no controller.
    /// </summary>
    public string? Controller { get; set; }

    /// <summary>The addresses in <see cref="Controller"/>, in order.</summary>
    public IReadOnlyList<string> ControllerAddresses =>
        string.IsNullOrWhiteSpace(Controller) ? [] : Controller.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Bearer token sent to the gateway, if it requires one.</summary>
    public string? BearerToken { get; set; }

    /// <summary>
    /// A file holding the bearer token (a mounted Secret; read on every call, so a rotated Secret is picked up).
    /// Instead of <see cref="BearerToken"/>.
    /// </summary>
    public string? BearerTokenPath { get; set; }

    /// <summary>PEM bundle of the CA(s) the gateways' certificates must chain to (a private CA); the system roots otherwise.</summary>
    public string? TrustedCaPath { get; set; }

    /// <summary>PKCS#12 client certificate for gateways that authenticate sidecars by certificate (OU=sidecar, CN=the sidecar id).</summary>
    public string? ClientCertificatePath { get; set; }

    public string? ClientCertificatePassword { get; set; }

    /// <summary>Accept a gateway certificate that does not chain to a trusted root (tests, dev only).</summary>
    public bool AllowUntrustedController { get; set; }
}

/// <summary>The checks and the TLS wiring of <see cref="ControllerAccessOptions"/>, in one place.</summary>
internal static class ControllerAccess
{
    /// <summary>What is wrong with the settings, each naming the setting.</summary>
    public static IEnumerable<string> Validate(ControllerAccessOptions o)
    {
        foreach (var address in o.ControllerAddresses)
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"Controller must be absolute http(s) URIs, comma-separated, such as http://gateway:9090 ('{address}' is not)";
            }
        }

        if (!string.IsNullOrEmpty(o.BearerToken) && !string.IsNullOrEmpty(o.BearerTokenPath))
        {
            yield return "BearerToken and BearerTokenPath are exclusive";
        }

        foreach (var (name, path) in new[] { ("BearerTokenPath", o.BearerTokenPath), ("TrustedCaPath", o.TrustedCaPath), ("ClientCertificatePath", o.ClientCertificatePath) })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
            {
                yield return $"{name} '{path}' does not exist";
            }
        }

        // deploy/'s committed secrets are placeholders (deploy/make-secrets.sh generates real ones): never sent.
        var token = !string.IsNullOrEmpty(o.BearerTokenPath) && File.Exists(o.BearerTokenPath) ? File.ReadAllText(o.BearerTokenPath).Trim() : o.BearerToken;
        if (token?.StartsWith(ControllerAccessOptions.PlaceholderPrefix, StringComparison.Ordinal) == true)
        {
            yield return $"{(string.IsNullOrEmpty(o.BearerTokenPath) ? "BearerToken" : $"BearerTokenPath '{o.BearerTokenPath}'")} holds the placeholder token shipped in deploy/; generate tokens with deploy/make-secrets.sh";
        }

        if (!string.IsNullOrEmpty(o.TrustedCaPath) && File.Exists(o.TrustedCaPath) && !HoldsPemCertificate(o.TrustedCaPath))
        {
            yield return $"TrustedCaPath '{o.TrustedCaPath}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
        }

        if (!string.IsNullOrEmpty(o.TrustedCaPath) && o.AllowUntrustedController)
        {
            yield return "TrustedCaPath and AllowUntrustedController are exclusive";
        }
    }

    /// <summary>The client certificate (if any) and the trust decision on a handler to the controller.</summary>
    public static void Apply(ControllerAccessOptions o, ControllerTrust trust, SocketsHttpHandler handler)
    {
        if (o.ClientCertificatePath is { Length: > 0 } path)
        {
            handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12FromFile(path, o.ClientCertificatePassword)];
        }

        trust.Apply(handler); // the system roots, the private CA in TrustedCaPath, or (dev only) anything
    }

    /// <summary>The authorization header (the token file is read on every call, so a rotated Secret is picked up).</summary>
    public static Metadata Headers(ControllerAccessOptions o)
    {
        var headers = new Metadata();
        var token = o.BearerTokenPath is { Length: > 0 } path ? File.ReadAllText(path).Trim() : o.BearerToken;
        if (!string.IsNullOrEmpty(token))
        {
            headers.Add("authorization", $"Bearer {token}");
        }

        return headers;
    }

    private static bool HoldsPemCertificate(string path)
    {
        try
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPemFile(path);
            return certificates.Count > 0;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
