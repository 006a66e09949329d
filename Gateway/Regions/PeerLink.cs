using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;

namespace OrleansControl.Gateway.Regions;

/// <summary>The peer region is not reachable now (circuit open, or retries exhausted).</summary>
internal sealed class PeerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The client side of the link to the other region's gateway: mutual TLS, a deadline on every call, retries with
/// exponential backoff for idempotent calls, and a circuit breaker.
/// </summary>
internal sealed partial class PeerLink : IDisposable
{
    private readonly PeerRegionOptions _options;
    private readonly ILogger<PeerLink> _logger;
    private readonly GrpcChannel? _channel;
    private readonly CircuitBreaker _breaker;

    public PeerLink(IOptions<GatewayOptions> options, ILogger<PeerLink> logger, TimeProvider time)
    {
        _options = options.Value.Peer;
        _logger = logger;
        _breaker = new CircuitBreaker(_options.BreakerFailureThreshold, _options.BreakerOpenDuration, time);
        if (string.IsNullOrEmpty(_options.Address)) return;

        var clientCertificate = _options.ClientCertificate
            ?? X509CertificateLoader.LoadPkcs12FromFile(_options.ClientCertificatePath!, _options.ClientCertificatePassword);
        var trusted = _options.TrustedCa;
        if (trusted is null && !string.IsNullOrEmpty(_options.TrustedCaPath))
        {
            trusted = [];
            trusted.ImportFromPemFile(_options.TrustedCaPath);
        }
        var ssl = new SslClientAuthenticationOptions
        {
            ClientCertificates = [clientCertificate],
            LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate,
        };
        if (trusted is not null) ssl.RemoteCertificateValidationCallback = (_, cert, _, errors) => TrustedBy(trusted, cert, errors);
        _channel = GrpcChannel.ForAddress(_options.Address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { SslOptions = ssl, ConnectTimeout = _options.CallDeadline },
        });
        Controller = new ControllerService.ControllerServiceClient(_channel);
        Pools = new ServerPoolService.ServerPoolServiceClient(_channel);
    }

    public bool Configured => _channel is not null;

    public string? PeerRegion => _options.Region;

    public bool IsOpen => _breaker.IsOpen;

    public ControllerService.ControllerServiceClient? Controller { get; }

    public ServerPoolService.ServerPoolServiceClient? Pools { get; }

    /// <summary>Runs <paramref name="call"/> with a deadline; idempotent calls are retried on transient failures.</summary>
    public async Task<T> CallAsync<T>(string name, Func<CallOptions, Task<T>> call, bool idempotent, CancellationToken cancellationToken)
    {
        if (!Configured) throw new PeerUnavailableException("no peer region is configured");
        var attempts = idempotent ? 1 + _options.MaxRetries : 1;
        for (var attempt = 1; ; attempt++)
        {
            if (!_breaker.TryAcquire()) throw new PeerUnavailableException($"peer region {PeerRegion}: circuit open");
            try
            {
                var result = await call(new CallOptions(deadline: DateTime.UtcNow + _options.CallDeadline, cancellationToken: cancellationToken));
                _breaker.Success();
                return result;
            }
            catch (RpcException e) when (IsTransient(e.StatusCode))
            {
                _breaker.Failure();
                LogCallFailed(name, attempt, e.StatusCode);
                if (attempt >= attempts) throw new PeerUnavailableException($"peer region {PeerRegion}: {name} failed ({e.StatusCode})", e);
            }
            catch (RpcException)
            {
                // The peer answered (e.g. INVALID_ARGUMENT): the link is fine.
                _breaker.Success();
                throw;
            }
            // 100 ms, 200 ms, 400 ms ... with jitter, so two regions recovering together do not retry in lock-step.
            var backoff = TimeSpan.FromMilliseconds(100 * Math.Pow(2, attempt - 1) * (0.8 + Random.Shared.NextDouble() * 0.4));
            await Task.Delay(backoff, cancellationToken);
        }
    }

    private static bool IsTransient(StatusCode code) => code is StatusCode.Unavailable or StatusCode.DeadlineExceeded;

    private static bool TrustedBy(X509Certificate2Collection trusted, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var cert = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        return chain.Build(cert);
    }

    public void Dispose() => _channel?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer call {Call} failed (attempt {Attempt}): {Code}")]
    private partial void LogCallFailed(string call, int attempt, StatusCode code);
}
