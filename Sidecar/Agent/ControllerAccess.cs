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
public interface IControllerAccess
{
    /// <summary>Where these settings are configured (e.g. <c>Sidecar:Agent</c>), for messages that name the fix.</summary>
    string SettingsPrefix { get; }

    string? BearerToken { get; }

    string? BearerTokenPath { get; }

    string? TrustedCaPath { get; }

    string? ClientCertificatePath { get; }

    string? ClientCertificatePassword { get; }

    bool AllowUntrustedController { get; }
}

/// <summary>The checks and the TLS wiring of <see cref="IControllerAccess"/>, in one place.</summary>
internal static class ControllerAccess
{
    /// <summary>What is wrong with the settings, each naming the setting.</summary>
    public static IEnumerable<string> Validate(IControllerAccess o)
    {
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
        if (token?.StartsWith(SidecarAgentOptions.PlaceholderPrefix, StringComparison.Ordinal) == true)
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
    public static void Apply(IControllerAccess o, ControllerTrust trust, SocketsHttpHandler handler)
    {
        if (o.ClientCertificatePath is { Length: > 0 } path)
        {
            handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12FromFile(path, o.ClientCertificatePassword)];
        }

        trust.Apply(handler); // the system roots, the private CA in TrustedCaPath, or (dev only) anything
    }

    /// <summary>The authorization header (the token file is read on every call, so a rotated Secret is picked up).</summary>
    public static Metadata Headers(IControllerAccess o)
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
