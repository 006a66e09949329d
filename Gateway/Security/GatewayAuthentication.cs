using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.Certificate;
using OrleansControl.Gateway.Hosting;

namespace OrleansControl.Gateway.Security;

/// <summary>
/// Client certificates: trusted when they chain to the configured client CA; the subject's CN is the caller's
/// identity (a sidecar's id, an operator's name, a peer region) and its OU the role (sidecar, operator, peer,
/// viewer); a certificate naming no known role fails authentication.
/// </summary>
internal static class GatewayAuthentication
{
    public const string PolicyScheme = "Gateway";

    public static void ConfigureCertificates(CertificateAuthenticationOptions o, GatewayOptions options)
    {
        o.AllowedCertificateTypes = CertificateTypes.Chained;
        o.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
        o.RevocationMode = X509RevocationMode.NoCheck;
        o.ValidateCertificateUse = true;
        var ca = LoadClientCa(options.Tls);
        if (ca is not null) o.CustomTrustStore.AddRange(ca);
        o.Events = new CertificateAuthenticationEvents
        {
            OnCertificateValidated = ctx =>
            {
                if (ca is null || ca.Count == 0)
                {
                    ctx.Fail("no client CA configured");
                    return Task.CompletedTask;
                }
                var cert = ctx.ClientCertificate;
                var subject = cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
                var role = OrganizationalUnit(cert);
                if (role is null || !GatewayRoles.IsKnown(role))
                {
                    // Trusted, but for no role of ours: not a caller of the control plane.
                    ctx.Fail("credential carries no known role");
                    return Task.CompletedTask;
                }
                var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, subject), new(ClaimTypes.Role, role) };
                ctx.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, CertificateAuthenticationDefaults.AuthenticationScheme));
                ctx.Success();
                return Task.CompletedTask;
            },
        };
    }

    internal static string? OrganizationalUnit(X509Certificate2 cert)
    {
        foreach (var rdn in cert.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.GetSingleElementType().Value == "2.5.4.11") return rdn.GetSingleElementValue()?.ToLowerInvariant();
        }
        return null;
    }

    public static X509Certificate2? LoadServerCertificate(GatewayTlsOptions tls)
    {
        if (tls.ServerCertificate is not null) return tls.ServerCertificate;
        if (string.IsNullOrEmpty(tls.CertificatePath)) return null;
        return string.IsNullOrEmpty(tls.KeyPath)
            ? X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath, tls.CertificatePassword)
            : X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath);
    }

    public static X509Certificate2Collection? LoadClientCa(GatewayTlsOptions tls)
    {
        if (tls.ClientCa is not null) return tls.ClientCa;
        if (string.IsNullOrEmpty(tls.ClientCaPath)) return null;
        var ca = new X509Certificate2Collection();
        ca.ImportFromPemFile(tls.ClientCaPath);
        return ca;
    }
}
