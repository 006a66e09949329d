using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Agent;

/// <summary>
/// The sidecar's control path: registers the connection with the controller, holds the
/// <c>SidecarService.Attach</c> stream (registration, heartbeats every few seconds, state reports up;
/// commands down, each acknowledged once), and carries the commands out on the <see cref="IsoClient"/>.
/// The data path never waits on it: if the controller is unreachable the link keeps running as it is and
/// the agent retries with backoff for ever.
/// </summary>
public sealed partial class SidecarAgent : BackgroundService
{
    private readonly IsoClient _link;
    private readonly SidecarAgentOptions _options;
    private readonly ILogger<SidecarAgent> _logger;
    private readonly Lock _lock = new();
    private readonly Queue<CommandRecord> _recent = new();
    private readonly ExecutedCommands _executed = new();
    private readonly CancellationTokenSource _stopping = new();
    private RunningMove? _runningMove; // guarded by _lock
    private Channel<SidecarMessage>? _outbox;
    private volatile GrpcChannel? _channel;
    private readonly TaskCompletionSource _channelReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, GrpcChannel> _channels = []; // by candidate key; used by the attach loop only
    private readonly Dictionary<string, ControllerTrust> _trust = []; // by candidate key: each gateway's TLS verdict
    private readonly GatewayCandidates _gateways;
    private int _current;
    private volatile GatewayCandidate? _currentGateway;
    private readonly UnappliedAcks _acks = new();
    private volatile string? _outboxIncarnation;
    private volatile bool _attached;
    private volatile string? _lastError;
    private volatile string? _assigned;
    private DateTimeOffset? _lastHeartbeatAt;
    private TimeSpan _heartbeatInterval;
    private LinkHealthSnapshot? _previous;
    private bool _failureReported;
    private volatile bool _standby;

    public SidecarAgent(IsoClient link, IOptions<SidecarAgentOptions> options, ILogger<SidecarAgent> logger)
    {
        _link = link;
        _options = options.Value;
        _logger = logger;
        _heartbeatInterval = _options.HeartbeatInterval;
        _gateways = new GatewayCandidates(_options.ControllerAddresses);
        _standby = _options.Standby;
        _link.StateChanged += OnLinkStateChanged;
        _link.Suspected += OnLinkSuspected;
    }

    public bool Attached => _attached;

    /// <summary>Beside a scheme server (<see cref="SidecarAgentOptions.Server"/>): declares it, carries no client connection.</summary>
    private bool ServerMode => _options.Server.Enabled;

    /// <summary>The TLS verdict of the gateway tried last.</summary>
    private ControllerTrust? CurrentTrust => _currentGateway is { } g && _trust.TryGetValue(g.Key, out var t) ? t : null;

    /// <summary>A standby client (DR): it holds no link and sends no heartbeats until the controller activates it.</summary>
    public bool Standby => _standby;

    public AgentStatus Status()
    {
        CommandRecord[] recent;
        DateTimeOffset? heartbeat;
        OwnMove? ownMove;
        lock (_lock)
        {
            recent = [.. _recent];
            heartbeat = _lastHeartbeatAt;
            ownMove = _lastOwnMove;
        }

        var current = _currentGateway?.ToString() ?? _options.Controller;
        return new AgentStatus(_options.SidecarId, _options.EffectiveConnectionId, current, _attached, _lastError,
            _assigned, _acks.LastAcked, _outboxIncarnation, heartbeat, _link.SendingStopped, _link.Health(), recent,
            _backups, ownMove, _link.Reversals(), _gateways.Learned, _standby);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _link.Start();
        if (_options.ControllerAddresses.Count == 0)
        {
            return; // stand-alone: the link runs on its configuration alone
        }

        // The channel has a reconnect backoff of its own (to 120 s by default) under ours: held at our cap, or a
        // controller that comes back would wait for it however short our delay.
        var candidates = await _gateways.ListAsync(stoppingToken).ConfigureAwait(false);
        _channel = ChannelFor(candidates[0]);
        _channelReady.TrySetResult();
        var backoff = new ReconnectBackoff(_options.RetryInitialDelay, _options.RetryMaxDelay);
        var registered = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                CurrentTrust?.Forget();
                if (!registered && !ServerMode)
                {
                    await RegisterAsync(stoppingToken).ConfigureAwait(false);
                    registered = true;
                }

                await AttachAsync(new SidecarService.SidecarServiceClient(_channel), backoff, stoppingToken).ConfigureAwait(false);
                _lastError = "stream ended by controller";
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Whatever broke the control path, the data path is untouched; retry. A refused certificate is said in words.
                _lastError = CurrentTrust?.Rejection is { } refused ? $"TLS: {refused}"
                    : UntrustedController(ex) ?? (ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message);
            }

            // Another gateway first, at once (configured, each address of a configured name, then the live ones the
            // controller named); only when every one has failed in turn does the backoff apply. Holding an ISO link (up,
            // or down and waiting for a move), a controller that comes back is re-attached to within RetryMaxDelayWhileLinked.
            try
            {
                candidates = await _gateways.ListAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var next = (Volatile.Read(ref _current) + 1) % candidates.Count;
            Volatile.Write(ref _current, next);
            _channel = ChannelFor(candidates[next]);
            var delay = next != 0 ? TimeSpan.FromMilliseconds(50)
                : HoldsLink ? backoff.Next(_options.RetryMaxDelayWhileLinked) : backoff.Next();
            Log.ControllerUnreachable(_logger, (long)delay.TotalMilliseconds, _lastError ?? "?");
            try
            {
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// The sidecar carries a link the controller must hear about (signed on, or down and reconnecting, which needs a
    /// move), or declares a server: retries are held at the short cap. A standby, or a link never opened, can wait.
    /// </summary>
    private bool HoldsLink => ServerMode || (!_standby && _link.State is not ConnectionState.Closed);

    /// <summary>A TLS refusal of the controller's certificate, said as what to configure; null for any other failure.</summary>
    private string? UntrustedController(Exception ex)
    {
        var inner = ex is RpcException { Status.DebugException: { } debug } ? debug : ex;
        for (var e = inner; e is not null; e = e.InnerException)
        {
            if (e is System.Security.Authentication.AuthenticationException tls)
            {
                var fix = _options.TrustedCaPath is { Length: > 0 } ca
                    ? $"it does not chain to the CA in Sidecar:Agent:TrustedCaPath '{ca}'"
                    : "set Sidecar:Agent:TrustedCaPath to the PEM of the CA that signs it (a private CA is not in the system roots)";
                return $"controller certificate not trusted ({tls.Message}): {fix}";
            }
        }

        return null;
    }

    private GrpcChannel ChannelFor(GatewayCandidate candidate)
    {
        _currentGateway = candidate;
        if (_channels.TryGetValue(candidate.Key, out var channel))
            return channel;
        // The channel has a reconnect backoff of its own (to 120 s by default) under ours: held at our cap, or a
        // controller that comes back would wait for it however short our delay.
        var trust = _trust[candidate.Key] = new ControllerTrust(candidate.Address, _options);
        var cap = _options.RetryMaxDelayWhileLinked < _options.RetryMaxDelay ? _options.RetryMaxDelayWhileLinked : _options.RetryMaxDelay;
        channel = GrpcChannel.ForAddress(candidate.Address, new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(_options, trust, candidate.Pinned),
            InitialReconnectBackoff = _options.RetryInitialDelay < cap ? _options.RetryInitialDelay : cap,
            MaxReconnectBackoff = cap,
        });
        _channels[candidate.Key] = channel;
        return channel;
    }

    private static SocketsHttpHandler CreateHandler(SidecarAgentOptions options, ControllerTrust trust, System.Net.IPAddress? pinned)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(20),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            EnableMultipleHttp2Connections = true,
        };
        if (pinned is not null)
        {
            // One address of a name that resolves to several: connect there; the URI's name still goes in TLS and :authority.
            handler.ConnectCallback = async (context, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(pinned.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new System.Net.IPEndPoint(pinned, context.DnsEndPoint.Port), ct).ConfigureAwait(false);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        ControllerAccess.Apply(options, trust, handler); // client certificate; the system roots, the private CA, or (dev only) anything
        return handler;
    }

    private Metadata Headers() => ControllerAccess.Headers(_options);

    /// <summary>Registers the connection intent (idempotent by connection id) and follows the assignment.</summary>
    private async Task RegisterAsync(CancellationToken ct)
    {
        var client = new ControllerService.ControllerServiceClient(_channel);
        var request = new RegisterConnectionRequest
        {
            ClientId = _options.ClientId,
            ServerPool = _options.ServerPool,
            PreferredServer = _options.PreferredServer ?? "",
            ConnectionId = _options.EffectiveConnectionId,
            SidecarId = _options.SidecarId,
            Standby = _options.Standby,
        };
        var response = await client.RegisterConnectionAsync(request, Headers(), DateTime.UtcNow.AddSeconds(10), ct).ConfigureAwait(false);
        // A standby (configured so, or a primary that came back after its standby took over) opens no link: the
        // controller sends CONNECT when it activates it.
        if (response.Standby != _standby)
        {
            Log.StandbyChanged(_logger, _options.EffectiveConnectionId, response.Standby);
        }

        _standby = response.Standby;
        if (!response.Standby)
        {
            Follow(response.Connection?.ServerAddress);
        }
    }

    /// <summary>
    /// Moves the link to an assigned server in the background (the control path never blocks on it), unless it is
    /// signed on elsewhere already: then it stays, and the heartbeats tell the controller where it is (the registry
    /// follows the link). A controller that re-registers us after a restart on in-memory storage only guessed; moving
    /// a working link for that guess would be a needless failover.
    /// </summary>
    private void Follow(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return;
        }

        if (_link.SignedOnAt is { } at && !string.Equals(at, address, StringComparison.OrdinalIgnoreCase))
        {
            Log.AssignmentNotFollowed(_logger, address, at);
            return;
        }

        _assigned = address;
        if (_link.Server != address || _link.State is ConnectionState.Closed)
        {
            _ = FollowAsync(address);
        }
    }

    private async Task FollowAsync(string address)
    {
        try
        {
            await _link.ConnectToAsync(address).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _lastError = $"connect to assigned {address}: {ex.Message}";
        }
    }

    public async Task<string> RequestFailoverAsync(string reason, CancellationToken ct)
    {
        if (_options.ControllerAddresses.Count == 0)
        {
            throw new InvalidOperationException("no controller configured");
        }

        // Asked before the agent has chosen its first gateway (just started): wait for it, as briefly as the call itself.
        try
        {
            await _channelReady.Task.WaitAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, "no controller gateway chosen yet"));
        }

        using var span = Telemetry.SidecarTracing.Source.StartActivity("request failover", System.Diagnostics.ActivityKind.Client);
        span?.SetTag("orleanscontrol.connection_id", _options.EffectiveConnectionId);
        var client = new ControllerService.ControllerServiceClient(_channel);
        var response = await client.RequestFailoverAsync(new RequestFailoverRequest
        {
            ConnectionId = _options.EffectiveConnectionId,
            Reason = reason,
            IdempotencyKey = Guid.NewGuid().ToString("N"),
        }, Headers(), DateTime.UtcNow.AddSeconds(10), ct).ConfigureAwait(false);
        return response.Connection?.FailoverTarget is { Length: > 0 } target ? target : response.Connection?.ServerId ?? "";
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _link.StateChanged -= OnLinkStateChanged;
        _link.Suspected -= OnLinkSuspected;
        _stopping.Cancel();
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
        base.Dispose();
    }
}
