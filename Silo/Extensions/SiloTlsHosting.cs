using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace OrleansControl.Silo.Extensions;

/// <summary>
/// TLS on the silo's Orleans ports, both directions requiring a certificate that chains to the configured CA (and
/// only to it: the system roots admit nobody here). Clients of the cluster (tests, tools) use <see cref="UseControllerClientTls"/>.
/// </summary>
public static class SiloTlsHosting
{
    public static ISiloBuilder UseControllerSiloTls(this ISiloBuilder silo, SiloTlsOptions options)
    {
        if (!options.Enabled)
            return silo;
        var (certificate, ca) = Load(options);
        return silo.UseTls(certificate, tls => Configure(tls, ca, options));
    }

    public static IClientBuilder UseControllerClientTls(this IClientBuilder client, SiloTlsOptions options)
    {
        if (!options.Enabled)
            return client;
        var (certificate, ca) = Load(options);
        return client.UseTls(certificate, tls => Configure(tls, ca, options));
    }

    private static void Configure(TlsOptions tls, X509Certificate2Collection ca, SiloTlsOptions options)
    {
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.HandshakeTimeout = options.HandshakeTimeout;
        tls.RemoteCertificateValidation = (certificate, _, errors) => IsAdmitted(certificate, errors, ca);
    }

    /// <summary>Admitted: a certificate was presented and it chains to the CA. Name errors do not count (peers are IPs).</summary>
    internal static bool IsAdmitted(X509Certificate2? certificate, SslPolicyErrors errors, X509Certificate2Collection ca)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static (X509Certificate2 Certificate, X509Certificate2Collection Ca) Load(SiloTlsOptions options)
    {
        const string P = ControllerSiloOptions.Section + ":SiloTls:";
        foreach (var (name, path) in new[] { ("CertificatePath", options.CertificatePath!), ("KeyPath", options.KeyPath!), ("CaPath", options.CaPath!) })
        {
            if (!File.Exists(path))
                throw new InvalidOperationException($"{P}{name} '{path}' does not exist");
        }
        using var pem = X509Certificate2.CreateFromPemFile(options.CertificatePath!, options.KeyPath);
        // Through PKCS#12 so SslStream gets a key it can use on every platform (PEM keys are ephemeral).
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var ca = new X509Certificate2Collection();
        ca.ImportFromPemFile(options.CaPath!);
        if (ca.Count == 0)
            throw new InvalidOperationException($"{P}CaPath '{options.CaPath}' holds no certificate");
        return (certificate, ca);
    }
}
