using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Config;

namespace OrleansControl.Occtl.Gateway;

/// <summary>
/// One gRPC channel to the gateway, authenticated like any caller: a bearer token in the <c>authorization</c>
/// header and/or a client certificate, the gateway's certificate checked against the private CA when one is given.
/// </summary>
internal sealed class GatewayChannel : IDisposable
{
    private readonly GrpcChannel _channel;

    private GatewayChannel(GrpcChannel channel, CallInvoker invoker, Uri address)
    {
        _channel = channel;
        Address = address;
        Controller = new ControllerService.ControllerServiceClient(invoker);
        Pools = new ServerPoolService.ServerPoolServiceClient(invoker);
    }

    public Uri Address { get; }

    public ControllerService.ControllerServiceClient Controller { get; }

    public ServerPoolService.ServerPoolServiceClient Pools { get; }

    public static GatewayChannel Open(GatewaySettings settings)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = settings.RequestTimeout,
            EnableMultipleHttp2Connections = true,
            // A watch stays open for hours: keep the connection alive through idle firewalls.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
        };
        if (settings.ClientCertificate is { } pfx)
        {
            handler.SslOptions.ClientCertificates = [LoadCertificate(pfx, settings.ClientCertificatePassword)];
        }
        if (settings.TrustedCa is { } caPath)
        {
            var ca = LoadCa(caPath);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => TrustedByCa(certificate, errors, ca);
        }

        var channel = GrpcChannel.ForAddress(settings.Gateway, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
        CallInvoker invoker = channel.CreateCallInvoker();
        if (settings.Token is { } token)
        {
            // A header rather than CallCredentials: those are refused on plain-text channels, and a loopback
            // development gateway is plain text. Settings refuse a token over http to anything but loopback.
            invoker = invoker.Intercept(metadata =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return metadata;
            });
        }
        return new GatewayChannel(channel, invoker, settings.Gateway);
    }

    private static X509Certificate2 LoadCertificate(string path, string? password)
    {
        try
        {
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
            return certificate.HasPrivateKey ? certificate
                : throw new OcctlException(ExitCodes.Usage, $"client certificate {path}: the PFX holds no private key");
        }
        catch (CryptographicException e)
        {
            throw new OcctlException(ExitCodes.Usage, $"client certificate {path}: cannot read the PFX ({e.Message.TrimEnd('.')}; wrong --cert-password?)");
        }
        catch (IOException e)
        {
            throw new OcctlException(ExitCodes.Usage, $"client certificate {path}: {e.Message}");
        }
    }

    private static X509Certificate2Collection LoadCa(string path)
    {
        var ca = new X509Certificate2Collection();
        try
        {
            ca.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is CryptographicException or IOException)
        {
            throw new OcctlException(ExitCodes.Usage, $"trusted CA {path}: {e.Message}");
        }
        return ca.Count > 0 ? ca : throw new OcctlException(ExitCodes.Usage, $"trusted CA {path}: no PEM certificate in it");
    }

    /// <summary>The host name must match; the chain must end at one of the given CAs (a private CA, revocation unchecked).</summary>
    private static bool TrustedByCa(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection ca)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    public void Dispose() => _channel.Dispose();
}
