using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace OrleansControl.Gateway.Regions;

/// <summary>The peer region is not reachable now (circuit open, deadline passed, or retries exhausted).</summary>
internal sealed class PeerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>How patient a call to the peer is.</summary>
internal enum PeerCallKind
{
    /// <summary>Not safe to repeat: one attempt within <see cref="PeerRegionOptions.CallDeadline"/>.</summary>
    Once,

    /// <summary>Idempotent: retried with exponential backoff and jitter, each attempt within the call deadline.</summary>
    Retried,

    /// <summary>
    /// Someone waits on it (a registration): one attempt within <see cref="PeerRegionOptions.AssignDeadline"/>,
    /// repeated only when the peer refused the connection outright (which costs milliseconds, not a deadline).
    /// </summary>
    Quick,
}

/// <summary>
/// The client side of the link to the other region's gateway: mutual TLS, Polly pipelines (deadline per attempt,
/// retries, one circuit breaker shared by every call), and the link's state: down after a transient failure, up
/// again on the next success or a successful <see cref="ProbeAsync"/>, which raises <see cref="Restored"/> so what
/// waited for the link (the outbox, anti-entropy) goes at once instead of on the next period.
/// </summary>
internal sealed partial class PeerLink : IDisposable
{
    private static readonly TimeSpan DeadlineSlack = TimeSpan.FromMilliseconds(250);
    private readonly PeerRegionOptions _options;
    private readonly ILogger<PeerLink> _logger;
    private readonly GrpcChannel? _channel;
    private readonly Health.HealthClient? _health;
    private readonly CircuitBreakerManualControl _breakerControl = new();
    private readonly CircuitBreakerStateProvider _breakerState = new();
    private readonly ResiliencePipeline _once;
    private readonly ResiliencePipeline _retried;
    private readonly ResiliencePipeline _quick;
    private int _down;

    public PeerLink(IOptions<GatewayOptions> options, ILogger<PeerLink> logger)
    {
        _options = options.Value.Peer;
        _logger = logger;
        (_once, _retried, _quick) = BuildPipelines(_options, _breakerControl, _breakerState);
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
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions = ssl,
                ConnectTimeout = _options.CallDeadline,
                // A black-holed peer never resets the connection: pings find out, so the next call dials afresh.
                KeepAlivePingDelay = _options.CallDeadline,
                KeepAlivePingTimeout = _options.CallDeadline,
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            },
            // Polly's timeouts cancel the call's token; the call must then end as a cancellation, not a status.
            ThrowOperationCanceledOnCancellation = true,
            // After a failed connect the channel fails every call until its reconnect backoff ends, and that backoff
            // grows to 2 minutes by default: the link would "return" up to 2 minutes late. Keep it to the probe's pace.
            InitialReconnectBackoff = _options.ProbeInterval,
            MaxReconnectBackoff = _options.ProbeInterval > TimeSpan.FromSeconds(1) ? _options.ProbeInterval : TimeSpan.FromSeconds(1),
        });
        Controller = new ControllerService.ControllerServiceClient(_channel);
        Pools = new ServerPoolService.ServerPoolServiceClient(_channel);
        _health = new Health.HealthClient(_channel);
    }

    public bool Configured => _channel is not null;

    public string? PeerRegion => _options.Region;

    /// <summary>The circuit refuses calls now.</summary>
    public bool IsOpen => _breakerState.CircuitState is CircuitState.Open or CircuitState.Isolated;

    /// <summary>The last call (or probe) failed for want of the link; no call has succeeded since.</summary>
    public bool IsDown => Volatile.Read(ref _down) == 1;

    /// <summary>Raised once when the link comes back after being down (on a successful call or probe).</summary>
    public event Action? Restored;

    public ControllerService.ControllerServiceClient? Controller { get; }

    public ServerPoolService.ServerPoolServiceClient? Pools { get; }

    /// <summary>Runs <paramref name="call"/> under the pipeline for <paramref name="kind"/>.</summary>
    /// <exception cref="PeerUnavailableException">The link is down (refused, deadline, circuit open).</exception>
    /// <exception cref="RpcException">The peer answered with an error (the link itself is fine).</exception>
    public async Task<T> CallAsync<T>(string name, Func<CallOptions, Task<T>> call, PeerCallKind kind, CancellationToken cancellationToken)
    {
        if (!Configured) throw new PeerUnavailableException("no peer region is configured");
        var pipeline = kind switch { PeerCallKind.Retried => _retried, PeerCallKind.Quick => _quick, _ => _once };
        // The peer learns the deadline too (and stops working on an abandoned call); Polly's timeout, a little
        // earlier, is the one that decides here.
        var deadline = (kind == PeerCallKind.Quick ? _options.AssignDeadline : _options.CallDeadline) + DeadlineSlack;
        try
        {
            var result = await pipeline.ExecuteAsync(
                async token => await call(new CallOptions(deadline: DateTime.UtcNow + deadline, cancellationToken: token)),
                cancellationToken);
            MarkUp();
            return result;
        }
        catch (BrokenCircuitException e)
        {
            throw new PeerUnavailableException($"peer region {PeerRegion}: circuit open", e);
        }
        catch (Exception e) when ((IsLinkFailure(e) || e is OperationCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            LogCallFailed(name, Describe(e));
            MarkDown();
            throw new PeerUnavailableException($"peer region {PeerRegion}: {name} failed ({Describe(e)})", e);
        }
        catch (RpcException)
        {
            // The peer answered (e.g. INVALID_ARGUMENT): the link is fine.
            MarkUp();
            throw;
        }
    }

    /// <summary>
    /// Asks the peer's gRPC health service whether it serves, past the circuit breaker; a yes closes the circuit and,
    /// if the link was down, raises <see cref="Restored"/>.
    /// </summary>
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        if (_health is null) return false;
        var deadline = _options.AssignDeadline < _options.CallDeadline ? _options.AssignDeadline : _options.CallDeadline;
        try
        {
            var reply = await _health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow + deadline, cancellationToken: cancellationToken);
            if (reply.Status != HealthCheckResponse.Types.ServingStatus.Serving) return false;
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            MarkDown();
            return false;
        }
        if (_breakerState.CircuitState != CircuitState.Closed) await _breakerControl.CloseAsync(cancellationToken);
        MarkUp();
        return true;
    }

    private void MarkDown()
    {
        if (Interlocked.Exchange(ref _down, 1) == 0) LogLinkDown(PeerRegion ?? "?");
    }

    private void MarkUp()
    {
        if (Interlocked.Exchange(ref _down, 0) == 0) return;
        LogLinkRestored(PeerRegion ?? "?");
        Restored?.Invoke();
    }

    private static (ResiliencePipeline Once, ResiliencePipeline Retried, ResiliencePipeline Quick) BuildPipelines(
        PeerRegionOptions o, CircuitBreakerManualControl control, CircuitBreakerStateProvider state)
    {
        // One breaker for the whole link: what one call learns about the peer spares the next caller a deadline.
        // Failure ratio 1 over at least N calls: N failures with no success between them open it.
        var breaker = new ResiliencePipelineBuilder().AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = 1.0,
            MinimumThroughput = Math.Max(2, o.BreakerFailureThreshold),
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = o.BreakerOpenDuration < TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(500) : o.BreakerOpenDuration,
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsLinkFailure),
            ManualControl = control,
            StateProvider = state,
        }).Build();

        ResiliencePipeline Attempts(int retries, TimeSpan attemptTimeout, Func<Exception, bool> retryOn, TimeSpan firstDelay)
        {
            var b = new ResiliencePipelineBuilder();
            if (retries > 0)
            {
                b.AddRetry(new RetryStrategyOptions
                {
                    MaxRetryAttempts = retries,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true, // two regions recovering together do not retry in lock-step
                    Delay = firstDelay,
                    ShouldHandle = new PredicateBuilder().Handle<Exception>(retryOn),
                });
            }
            return b.AddPipeline(breaker).AddTimeout(attemptTimeout).Build();
        }

        return (
            Attempts(0, o.CallDeadline, _ => false, TimeSpan.Zero),
            Attempts(o.MaxRetries, o.CallDeadline, IsLinkFailure, TimeSpan.FromMilliseconds(100)),
            // A black hole costs one deadline, never retries × deadlines; a refusal is retried while it is cheap.
            Attempts(Math.Min(o.MaxRetries, 2), o.AssignDeadline, e => e is RpcException { StatusCode: StatusCode.Unavailable }, TimeSpan.FromMilliseconds(50)));
    }

    /// <summary>What says the link (not the peer's judgement) failed: unreachable, or no answer in time.</summary>
    private static bool IsLinkFailure(Exception e) =>
        e is TimeoutRejectedException or RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded };

    private static string Describe(Exception e) => e switch
    {
        RpcException r => r.StatusCode.ToString(),
        TimeoutRejectedException => "no answer within the deadline",
        _ => e.GetType().Name,
    };

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer call {Call} failed: {Why}")]
    private partial void LogCallFailed(string call, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Link to peer region {Peer} is down")]
    private partial void LogLinkDown(string peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Link to peer region {Peer} is back")]
    private partial void LogLinkRestored(string peer);
}
