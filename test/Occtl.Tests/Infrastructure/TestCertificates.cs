using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansControl.Occtl.Tests.Infrastructure;

/// <summary>
/// A throw-away CA and certificates made in memory per run (copied from test/Gateway.Tests/Infrastructure); the
/// files a CLI reads (CA PEM, client PFX) are written to the test's temporary directory only.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public X509Certificate2 Ca { get; } = CreateCa("occtl Test CA");

    public X509Certificate2 IssueServer() => Issue("CN=localhost", server: true);

    /// <summary>A client certificate: CN is the identity, OU the gateway role.</summary>
    public X509Certificate2 IssueClient(string subject, string role) => Issue($"CN={subject}, OU={role}", server: false);

    private X509Certificate2 Issue(string distinguishedName, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(distinguishedName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }
        using var cert = request.Create(Ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(12));
        using var withKey = cert.CopyWithPrivateKey(key);
        // Round-trip through PKCS#12 so SslStream on Linux can use the ephemeral key.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    private static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        return X509CertificateLoader.LoadPkcs12(ca.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose() => Ca.Dispose();
}
