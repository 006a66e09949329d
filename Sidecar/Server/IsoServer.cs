using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Matching;

namespace OrleansControl.Sidecar.Server;

/// <summary>
/// The server end: accepts clients on TCP (optionally TLS), answers their sign-on, sign-off and echoes,
/// hands application requests to the <see cref="IInboundHandler"/>, and tracks each session by the
/// institution id it signed on with. Supports a capacity limit and "stop sending to client X" (during a
/// failover the scheme side stops routing its own requests to a client that is moving away).
/// </summary>
public sealed class IsoServer : IAsyncDisposable
{
    private readonly IsoServerOptions _options;
    private readonly IsoWire _wire;
    private readonly IInboundHandler _handler;
    private readonly ILogger _logger;
    private readonly MatchKeyPolicy _keys;
    private readonly ConcurrentDictionary<long, ServerSession> _sessions = new();
    private readonly RequestMatcher<IsoMessage> _outbound;
    private readonly CancellationTokenSource _stop = new();
    private readonly ServerTls? _tls;
    private Socket? _listener;
    private Task? _acceptLoop;

    public IsoServer(IsoServerOptions options, IInboundHandler handler, ILogger<IsoServer>? logger = null)
        : this(options, handler, null, logger)
    {
    }

    /// <summary>With TLS on, the certificate may be handed over instead of read from <see cref="TlsOptions.CertificatePath"/>.</summary>
    public IsoServer(IsoServerOptions options, IInboundHandler handler, X509Certificate2? certificate, ILogger<IsoServer>? logger = null)
    {
        var errors = options.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"invalid IsoServerOptions: {string.Join("; ", errors)}", nameof(options));
        }

        _options = options;
        _wire = IsoWire.Create(options);
        _handler = handler;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _keys = new MatchKeyPolicy(options.MatchFields, options.DefaultMatchFields);
        _outbound = new RequestMatcher<IsoMessage>(options.MaxInFlight, TimeSpan.FromMilliseconds(20));
        _tls = ServerTls.From(options.Tls, certificate);
    }

    /// <summary>The bound address (with the real port when configured with port 0).</summary>
    public IPEndPoint? Endpoint => _listener?.LocalEndPoint as IPEndPoint;

    public IReadOnlyList<ServerSessionInfo> Sessions => [.. _sessions.Values.Select(s => s.Info).OrderBy(s => s.SessionId)];

    public event Action<ServerSessionEvent>? SessionChanged;

    public void Start()
    {
        IsoEndpoint.TryParse(_options.Listen, out var parsed, allowPortZero: true);
        var listen = parsed!.Value;
        var address = listen.Host is "*" or "0.0.0.0" or "" ? IPAddress.Any
            : IPAddress.TryParse(listen.Host, out var ip) ? ip
            : Dns.GetHostAddresses(listen.Host).First();
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        ListenExclusively(socket, new IPEndPoint(address, listen.Port));
        _listener = socket;
        _acceptLoop = Task.Run(() => AcceptLoopAsync(socket, _stop.Token));
        if (_options.IdleTimeout > TimeSpan.Zero)
        {
            _ = CloseIdleSessionsAsync(_options.IdleTimeout, _stop.Token);
        }
    }

    /// <summary>
    /// Binds so that a restart may reuse the port at once (old sessions in TIME_WAIT) but no other listener may
    /// share it. .NET's <see cref="SocketOptionName.ReuseAddress"/> cannot do that on Linux: it sets SO_REUSEPORT
    /// too, which lets a second process bind the same port and the kernel split connections between the two.
    /// </summary>
    private void ListenExclusively(Socket socket, IPEndPoint endpoint)
    {
        if (OperatingSystem.IsWindows())
        {
            socket.ExclusiveAddressUse = true;
        }
        else
        {
            // SO_REUSEADDR alone: SOL_SOCKET/SO_REUSEADDR are 1/2 on Linux, 0xffff/4 on the BSDs and macOS.
            var (level, name) = OperatingSystem.IsLinux() ? (1, 2) : (0xffff, 4);
            socket.SetRawSocketOption(level, name, BitConverter.GetBytes(1));
        }

        try
        {
            socket.Bind(endpoint);
            socket.Listen(512);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            socket.Dispose();
            var why = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "is in use by another listener" : "may not be bound by this process";
            throw new SidecarException(SidecarError.ListenFailed,
                $"{_options.Name}: cannot listen on {endpoint}: the port {why}; set {_options.ListenSetting} to a free host:port", e);
        }
    }

    private async Task CloseIdleSessionsAsync(TimeSpan idleTimeout, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Clamp(idleTimeout.TotalMilliseconds / 4, 50, 10_000)));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                foreach (var entry in _sessions.Values.Where(s => s.Session.IdleFor > idleTimeout))
                {
                    entry.Session.Abort($"silent for more than {idleTimeout.TotalSeconds:F0} s");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            if (_sessions.Count >= _options.MaxSessions)
            {
                Log.CapacityRefused(_logger, _options.Name, client.RemoteEndPoint?.ToString() ?? "?", _sessions.Count);
                client.Dispose();
                continue;
            }

            _ = OpenSessionAsync(client, ct);
        }
    }

    private async Task OpenSessionAsync(Socket socket, CancellationToken ct)
    {
        Stream stream;
        try
        {
            stream = await IsoTransport.AcceptAsync(socket, _tls, ct).ConfigureAwait(false);
        }
        catch (System.Security.Authentication.AuthenticationException ex)
        {
            // The reason alone (which certificate, why): a refused client is expected traffic, not a fault of ours.
            Log.TlsRefused(_logger, _options.Name, socket.RemoteEndPoint?.ToString() ?? "?", ex.Message);
            socket.Dispose();
            return;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            socket.Dispose();
            return;
        }

        ServerSession? entry = null;
        var session = new IsoSession(stream, socket, socket.RemoteEndPoint, _wire, (s, m) => OnMessage(entry!, m), _logger,
            (m, ex) => _outbound.TryFail(SessionKey(entry!.Session.Id, m), m, new SidecarException(SidecarError.InvalidMessage, $"MTI {IsoWire.MtiOf(m):D4} could not be packed: {ex.Message}", ex)));
        entry = new ServerSession(session);
        _sessions[session.Id] = entry;
        _ = session.Closed.ContinueWith(t => OnClosed(entry, t.Result), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Raise("opened", entry, null);
        session.Start();
    }

    private ValueTask OnMessage(ServerSession entry, IsoMessage message)
    {
        var session = entry.Session;
        var mti = IsoWire.MtiOf(message);
        if (!MatchKey.IsRequest(mti))
        {
            if (!_outbound.TryComplete(SessionKey(session.Id, message), message))
            {
                _handler.OnUnmatchedResponse(entry.Peer, message);
            }

            return ValueTask.CompletedTask;
        }

        if (NetworkManagement.IsNetworkManagement(mti))
        {
            switch (NetworkManagement.Function(message))
            {
                case NetworkManagement.SignOnCode:
                    entry.ClientId = IsoWire.Get(message, 33) ?? entry.ClientId;
                    entry.SignedOn = true;
                    Raise("signed-on", entry, null);
                    break;
                case NetworkManagement.SignOffCode:
                    entry.SignedOn = false;
                    Raise("signed-off", entry, null);
                    break;
            }

            session.TrySend(NetworkManagement.Answer(_wire, message));
            return ValueTask.CompletedTask;
        }

        if (_options.RequireSignOn && !entry.SignedOn)
        {
            return ValueTask.CompletedTask;
        }

        InboundRequests.Dispatch(session, entry.Peer, message, _handler, _logger, _stop.Token);
        return ValueTask.CompletedTask;
    }

    private void OnClosed(ServerSession entry, string reason)
    {
        _sessions.TryRemove(entry.Session.Id, out _);
        _outbound.FailSession(entry.Session.Id, SidecarError.ConnectionLost, $"session {entry.Session.Id} closed: {reason}");
        Raise("closed", entry, reason);
    }

    private void Raise(string @event, ServerSession entry, string? detail)
    {
        Log.ServerSession(_logger, _options.Name, entry.Session.Id, entry.Session.Remote, @event);
        SessionChanged?.Invoke(new ServerSessionEvent(@event, entry.Info, detail));
    }

    /// <summary>Stops server-initiated requests to <paramref name="client"/> (institution id or remote address). Returns the sessions affected.</summary>
    public int StopSending(string client) => SetSending(client, stopped: true);

    /// <summary>
    /// The same for the sessions <paramref name="client"/> opened before <paramref name="decidedAt"/> only: a decision
    /// that arrives late (a consumer catching up) never stops a session the client opened after it (it came back).
    /// </summary>
    public int StopSending(string client, DateTimeOffset decidedAt) => SetSending(client, stopped: true, openedBefore: decidedAt);

    public int ResumeSending(string client) => SetSending(client, stopped: false);

    private int SetSending(string client, bool stopped, DateTimeOffset? openedBefore = null)
    {
        var n = 0;
        foreach (var entry in _sessions.Values.Where(s => s.Is(client) && (openedBefore is not { } before || s.OpenedAt < before)))
        {
            entry.SendingStopped = stopped;
            Raise(stopped ? "sending-stopped" : "sending-resumed", entry, null);
            n++;
        }

        return n;
    }

    /// <summary>A server-initiated request to a client (e.g. an issuer-side 0100), matched like the client's.</summary>
    public async Task<IsoMessage> SendAsync(string client, IsoMessage request, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var entry = _sessions.Values.FirstOrDefault(s => s.Is(client) && !s.Session.IsClosed)
            ?? throw new SidecarException(SidecarError.NoLink, "no open session for that client");
        if (entry.SendingStopped)
        {
            throw new SidecarException(SidecarError.SendingStopped, $"sending to session {entry.Session.Id} was stopped by command");
        }

        var pending = _outbound.Register(SessionKey(entry.Session.Id, request), request, timeout ?? _options.RequestTimeout);
        if (!pending.TryAssign(entry.Session.Id) || !entry.Session.TrySend(request))
        {
            _outbound.TryFail(pending, new SidecarException(SidecarError.NoLink, $"session {entry.Session.Id} closed before the request was written"));
        }

        await using var registration = ct.Register(() => _outbound.TryFail(pending, new OperationCanceledException(ct))).ConfigureAwait(false);
        return await pending.Task.ConfigureAwait(false);
    }

    private MatchKey SessionKey(long sessionId, IsoMessage message)
    {
        var key = _keys.KeyOf(message);
        return key with { Fields = string.Concat(sessionId.ToString(System.Globalization.CultureInfo.InvariantCulture), "\u001e", key.Fields) };
    }

    /// <summary>Closes the sessions of <paramref name="client"/> (all when null); with <paramref name="reset"/> the client sees a TCP RST.</summary>
    public int CloseSessions(string? client = null, bool reset = false)
    {
        var n = 0;
        foreach (var entry in _sessions.Values.Where(s => client is null || s.Is(client)))
        {
            entry.Session.Abort(reset ? "reset by server" : "closed by server", reset);
            n++;
        }

        return n;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        foreach (var entry in _sessions.Values)
        {
            await entry.Session.DisposeAsync().ConfigureAwait(false);
        }

        await _outbound.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
