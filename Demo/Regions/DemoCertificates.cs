using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansControl.Demo.Regions;

/// <summary>
/// A throw-away CA and the certificates two regions need, made for each run (the approach of
/// test/Gateway.Tests/Infrastructure/TestCertificates.cs) and written to a private folder the processes read them from
/// (PKCS#12 without a password, CA as PEM; mode 0600). <see cref="Dispose"/> deletes the folder. The CN of a client
/// certificate is the identity, its OU the gateway role (peer, sidecar, operator).
/// </summary>
internal sealed class DemoCertificates : IDisposable
{
    private readonly X509Certificate2 _ca;

    public DemoCertificates(string folder)
    {
        Folder = folder;
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _ca = CreateCa("OrleansControl demo CA");
        CaPath = Path.Combine(folder, "ca.pem");
        Write(CaPath, System.Text.Encoding.ASCII.GetBytes(_ca.ExportCertificatePem()));
    }

    public string Folder { get; }

    /// <summary>PEM of the CA: the gateways trust client certificates (and the peer's server certificate) it signed.</summary>
    public string CaPath { get; }

    public X509Certificate2 Ca => _ca;

    /// <summary>A server certificate for localhost and 127.0.0.1, as a PKCS#12 file; returns its path.</summary>
    public string Server(string name) => Save($"{name}-server.pfx", Issue("CN=localhost", server: true));

    /// <summary>A client certificate (CN = identity, OU = role), as a PKCS#12 file; returns its path.</summary>
    public string Client(string subject, string role) => Save($"{subject}-{role}.pfx", Issue($"CN={subject}, OU={role}", server: false));

    /// <summary>A client certificate kept in memory (the demo's own operator identity for REST calls).</summary>
    public X509Certificate2 ClientInMemory(string subject, string role) => Issue($"CN={subject}, OU={role}", server: false);

    public void Dispose()
    {
        _ca.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Already gone.
        }
    }

    private string Save(string file, X509Certificate2 cert)
    {
        var path = Path.Combine(Folder, file);
        Write(path, cert.Export(X509ContentType.Pkcs12));
        cert.Dispose();
        return path;
    }

    private static void Write(string path, byte[] bytes)
    {
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        stream.Write(bytes);
    }

    private X509Certificate2 Issue(string distinguishedName, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(distinguishedName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }

        using var cert = request.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(12));
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

    /// <summary>An HTTP handler that presents <paramref name="client"/> and trusts only servers this CA signed.</summary>
    public HttpMessageHandler Handler(X509Certificate2 client) => new SocketsHttpHandler
    {
        SslOptions = new System.Net.Security.SslClientAuthenticationOptions
        {
            ClientCertificates = [client],
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && SignedByCa(certificate),
        },
    };

    private bool SignedByCa(X509Certificate certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
