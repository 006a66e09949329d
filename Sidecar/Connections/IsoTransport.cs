using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace OrleansControl.Sidecar.Connections;

/// <summary>Opening the byte stream under a session: a TCP socket, optionally wrapped in TLS.</summary>
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
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                var options = new SslClientAuthenticationOptions { TargetHost = tls.TargetHost ?? endpoint.Host };
                if (tls.AllowUntrustedServer)
                {
                    options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
                }

                if (tls.CertificatePath is { } path)
                {
                    options.ClientCertificates = [X509CertificateLoader.LoadPkcs12FromFile(path, tls.CertificatePassword)];
                }

                await ssl.AuthenticateAsClientAsync(options, deadline.Token).ConfigureAwait(false);
                stream = ssl;
            }

            return (stream, socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static async Task<Stream> AcceptAsync(Socket socket, TlsOptions? tls, X509Certificate2? certificate, CancellationToken ct)
    {
        socket.NoDelay = true;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        if (tls is { Enabled: true } && certificate is not null)
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, ct).ConfigureAwait(false);
            stream = ssl;
        }

        return stream;
    }
}
