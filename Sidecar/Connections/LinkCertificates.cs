using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansControl.Sidecar.Connections;

/// <summary>
/// The certificates of a TLS link read from files (a mounted Secret), and the decision whether the peer's certificate
/// is admitted, with the reason when it is not. A private CA is trusted alone: the system roots play no part.
/// </summary>
internal static class LinkCertificates
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>PEM certificate and key (cert-manager's tls.crt and tls.key) when <paramref name="keyPath"/> is set, PKCS#12 otherwise.</summary>
    public static X509Certificate2 Load(string certificatePath, string? keyPath, string? password)
    {
        if (string.IsNullOrEmpty(keyPath))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password);
        }

        using var pem = string.IsNullOrEmpty(password)
            ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
        // A PEM key is ephemeral; through PKCS#12 it becomes one SslStream can use on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Chain policy for a peer certificate: only the CAs in the PEM bundle at <paramref name="caPath"/> are roots.</summary>
    public static X509ChainPolicy TrustOnly(string caPath, bool peerIsServer)
    {
        var cas = new X509Certificate2Collection();
        cas.ImportFromPemFile(caPath);
        if (cas.Count == 0)
        {
            throw new CryptographicException($"no certificate in the CA bundle '{caPath}'");
        }

        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(cas);
        policy.ApplicationPolicy.Add(peerIsServer ? ServerAuth : ClientAuth);
        return policy;
    }

    /// <summary>Why the peer's certificate is refused, or null when it is admitted.</summary>
    public static string? Refusal(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, IReadOnlyCollection<string> allowedNames, string? expectedName)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return "no certificate was presented";
        }

        var subject = certificate.Subject;
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return $"certificate '{subject}' does not name '{expectedName}'";
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var statuses = chain?.ChainStatus.Select(s => s.Status.ToString()).Distinct().ToList() ?? [];
            return $"certificate '{subject}' (issuer '{certificate.Issuer}') does not chain to a trusted CA ({(statuses.Count > 0 ? string.Join(", ", statuses) : "chain errors")})";
        }

        if (errors != SslPolicyErrors.None)
        {
            return $"certificate '{subject}': {errors}";
        }

        if (allowedNames.Count > 0)
        {
            using var cert = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            var names = NamesOf(cert);
            if (!names.Any(n => allowedNames.Contains(n, StringComparer.OrdinalIgnoreCase)))
            {
                return $"certificate '{subject}' names none of the allowed peers ({string.Join(", ", names)} not in {string.Join(", ", allowedNames)})";
            }
        }

        return null;
    }

    /// <summary>The certificate's common name and DNS subject alternative names.</summary>
    public static IReadOnlyList<string> NamesOf(X509Certificate2 certificate)
    {
        var names = new List<string>();
        if (certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } cn)
        {
            names.Add(cn);
        }

        foreach (var extension in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.AddRange(extension.EnumerateDnsNames());
        }

        return names;
    }
}
