using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace OrleansControl.Sidecar.Connections;

/// <summary>Opening the byte stream under a session: a TCP socket, optionally wrapped in TLS (mutual when configured).</summary>
internal static class IsoTransport
{
    public static async Task<(Stream Stream, Socket Socket)> ConnectAsync(
        IsoEndpoint endpoint, TlsOptions? tls, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        try
        {
            try
            {
                await socket.ConnectAsync(endpoint.Host, endpoint.Port, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"connect to {endpoint} timed out after {timeout.TotalMilliseconds:F0} ms");
            }

            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (tls is { Enabled: true })
            {
                stream = await AuthenticateAsClientAsync(stream, endpoint, tls, deadline.Token).ConfigureAwait(false);
            }

            return (stream, socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<Stream> AuthenticateAsClientAsync(Stream stream, IsoEndpoint endpoint, TlsOptions tls, CancellationToken ct)
    {
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        var targetHost = tls.TargetHost ?? endpoint.Host;
        string? refusal = null;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                refusal = tls.AllowUntrustedServer ? null : LinkCertificates.Refusal(certificate, chain, errors, [], targetHost);
                return refusal is null;
            },
        };
        if (tls.TrustedCaPath is { Length: > 0 } caPath)
        {
            options.CertificateChainPolicy = LinkCertificates.TrustOnly(caPath, peerIsServer: true);
        }

        if (tls.CertificatePath is { Length: > 0 } path)
        {
            // Read on every connect, so a rotated Secret is picked up; always presented (the server may list no issuers).
            var mine = LinkCertificates.Load(path, tls.KeyPath, tls.CertificatePassword);
            options.ClientCertificates = [mine];
            options.LocalCertificateSelectionCallback = (_, _, _, _, _) => mine;
        }

        try
        {
            await ssl.AuthenticateAsClientAsync(options, ct).ConfigureAwait(false);
            return ssl;
        }
        catch (AuthenticationException ex)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new AuthenticationException(refusal is not null
                ? $"TLS to {endpoint}: server certificate refused: {refusal}"
                : $"TLS to {endpoint}: handshake failed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Accepts a client: plain TCP, or TLS with the server certificate in <paramref name="tls"/>. A refused client
    /// certificate ends in an <see cref="AuthenticationException"/> whose message is the reason; a peer that just
    /// closes the socket in an <see cref="IOException"/>.
    /// </summary>
    public static async Task<Stream> AcceptAsync(Socket socket, ServerTls? tls, CancellationToken ct)
    {
        socket.NoDelay = true;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        if (tls is null)
        {
            return stream;
        }

        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        string? refusal = null;
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificate = tls.Certificate,
            ClientCertificateRequired = tls.ClientTrust is not null,
        };
        if (tls.ClientTrust is { } trust)
        {
            options.CertificateChainPolicy = trust.Clone(); // one per handshake: they run concurrently
            options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                refusal = LinkCertificates.Refusal(certificate, chain, errors, tls.AllowedClientNames, null);
                return refusal is null;
            };
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(tls.HandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(options, deadline.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (IOException) when (refusal is null)
        {
            // Gone before or during the handshake (a TCP probe, a load balancer's health check): nothing to report.
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            var reason = refusal is not null ? $"client certificate refused: {refusal}"
                : ex is OperationCanceledException ? $"no TLS handshake within {tls.HandshakeTimeout.TotalSeconds:F0} s"
                : $"TLS handshake failed: {ex.Message}";
            throw new AuthenticationException(reason, ex);
        }
    }
}

/// <summary>The server end's TLS, loaded once: its certificate and, for mutual TLS, whom it admits.</summary>
internal sealed record ServerTls(X509Certificate2 Certificate, X509ChainPolicy? ClientTrust, IReadOnlyCollection<string> AllowedClientNames, TimeSpan HandshakeTimeout)
{
    public static ServerTls? From(TlsOptions? tls, X509Certificate2? certificate)
    {
        if (tls is not { Enabled: true })
        {
            return null;
        }

        certificate ??= tls.CertificatePath is { Length: > 0 } path
            ? LinkCertificates.Load(path, tls.KeyPath, tls.CertificatePassword)
            : throw new ArgumentException("TLS is enabled but no server certificate was given (Tls.CertificatePath)");
        var trust = tls.RequireClientCertificate ? LinkCertificates.TrustOnly(tls.TrustedCaPath!, peerIsServer: false) : null;
        return new ServerTls(certificate, trust, [.. tls.AllowedClientNames], tls.HandshakeTimeout);
    }
}
