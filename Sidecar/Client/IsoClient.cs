using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Matching;
using OrleansControl.Sidecar.Reversals;
using OrleansControl.Sidecar.Telemetry;

namespace OrleansControl.Sidecar.Client;

/// <summary>
/// The client end of an ISO 8583 link, the thing an application sends through. It keeps one signed-on
/// session to its current server (reconnecting with backoff, for ever), matches responses to requests, keeps
/// the link alive with echo tests, and carries out the controller's commands: move to another server
/// without losing accepted requests, drain, stop sending, sign off.
/// </summary>
/// <remarks>
/// Every request accepted by <see cref="SendAsync"/> ends with its response or a <see cref="SidecarException"/> that
/// says whether it was sent (<see cref="SidecarException.Outcome"/>); requests accepted while no session is up wait for
/// one within their timeout. Requests whose fate is unknown are reversed where configured (IsoClient.Reversals.cs).
/// </remarks>
public sealed partial class IsoClient : IAsyncDisposable
{
    private readonly IsoClientOptions _options;
    private readonly IsoWire _wire;
    private readonly MatchKeyPolicy _keys;
    private readonly IInboundHandler _inbound;
    private readonly ILogger _logger;
    private readonly RequestMatcher<IsoMessage> _requests;
    private readonly RequestMatcher<IsoMessage> _network;
    private readonly LinkHealth _health = new();
    private readonly SidecarMetrics _metrics;
    private readonly ReconnectBackoff _backoff;
    private readonly Signal _wake = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lock _lock = new();
    private Task? _runner;
    private IsoSession? _current;
    private string? _currentAddress; // host:port _current was opened to, as configured or commanded
    private string? _target;
    private Move _move = new(null, exclusive: false); // the latest change of _target; see IsoClient.Moves.cs
    private ConnectionState _state = ConnectionState.Down;
    private DateTimeOffset? _signedOnSince;
    private bool _accepting = true;
    private bool _paused;
    private volatile bool _sendingStopped;
    private int _stan;

    /// <param name="meters">The host's meter factory for <see cref="SidecarMetrics"/>; without one the link owns its meter.</param>
    /// <exception cref="IOException">Reversals are on and their journal is held by another process or cannot be created.</exception>
    public IsoClient(IsoClientOptions options, IInboundHandler? inbound = null, ILogger<IsoClient>? logger = null, System.Diagnostics.Metrics.IMeterFactory? meters = null)
    {
        var errors = options.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"invalid IsoClientOptions: {string.Join("; ", errors)}", nameof(options));
        }

        _options = options;
        _wire = IsoWire.Create(options);
        _keys = new MatchKeyPolicy(options.MatchFields, options.DefaultMatchFields);
        _inbound = inbound ?? new DelegateInboundHandler();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _metrics = new SidecarMetrics(meters, options.Name);
        _metrics.Observe(() => State, () => InFlight);
        if (options.Reversals.Enabled)
        {
            // First, so that a journal that cannot be opened fails the client before anything runs.
            try
            {
                _reversals = new StoreAndForward(options.Reversals, _wire.Spec, _keys, this, options.Name, _logger, _metrics);
            }
            catch
            {
                _metrics.Dispose();
                throw;
            }
        }

        var sweep = TimeSpan.FromMilliseconds(Math.Clamp(options.RequestTimeout.TotalMilliseconds / 20, 5, 50));
        _requests = new RequestMatcher<IsoMessage>(options.MaxInFlight, sweep)
        {
            TimedOut = _ => OnRequestTimedOut(),
            Failed = OnRequestFailed,
            UnknownFate = _reversals is null ? null : this,
        };
        _network = new RequestMatcher<IsoMessage>(64, TimeSpan.FromMilliseconds(20));
        _backoff = new ReconnectBackoff(options.ReconnectInitialDelay, options.ReconnectMaxDelay);
        _target = string.IsNullOrWhiteSpace(options.Server) ? null : options.Server;
        _stan = Random.Shared.Next(1, 900_000);
    }

    public string Name => _options.Name;

    public ConnectionState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>The server this client connects (or is trying to connect) to.</summary>
    public string? Server => Volatile.Read(ref _target);

    /// <summary>The server of the signed-on session, if any.</summary>
    public string? ConnectedTo => _current is { IsClosed: false } s ? s.Remote : null;

    /// <summary>
    /// The server of the live (signed-on) session in the form it was given (configured <c>Server</c> or
    /// <see cref="ConnectToAsync"/>), not the resolved endpoint: what the controller names servers by. Null while
    /// there is none; unlike <see cref="Server"/> it never names a server that is only being tried.
    /// </summary>
    public string? SignedOnAt
    {
        get
        {
            lock (_lock)
            {
                return _current is { IsClosed: false } ? _currentAddress : null;
            }
        }
    }

    /// <summary>This end of the live session (host:port): the server side reports the client's session by it.</summary>
    public string? LocalAddress => _current is { IsClosed: false } s ? s.Local : null;

    public int InFlight => _requests.InFlight;

    /// <summary>The link's instruments, shared with its agent (which counts the controller's commands there).</summary>
    internal SidecarMetrics Metrics => _metrics;

    public bool SendingStopped => _sendingStopped;

    /// <summary>Raised on every state change, on the thread that caused it; handlers must be quick.</summary>
    public event Action<ConnectionStateChanged>? StateChanged;

    /// <summary>Starts connecting (if a server is known) and keeps the link up until disposed, drained or signed off.</summary>
    public void Start()
    {
        _runner ??= Task.Run(() => RunAsync(_lifetime.Token));
        _reversals?.Start();
    }

    /// <summary>A fresh STAN (field 11), 000001..999999, wrapping.</summary>
    public string NextStan()
    {
        var n = Interlocked.Increment(ref _stan);
        return ((((n % 999_999) + 999_999) % 999_999) + 1).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    public LinkHealthSnapshot Health() =>
        _health.Snapshot(State, _current is { IsClosed: false } s ? s.Remote : Server, _requests.InFlight, _signedOnSince);

    private void SetState(ConnectionState next, string reason)
    {
        ConnectionState previous;
        lock (_lock)
        {
            previous = _state;
            if (previous == next || previous == ConnectionState.Closed && next != ConnectionState.Connecting)
            {
                return;
            }

            _state = next;
            if (next == ConnectionState.SignedOn && previous != ConnectionState.Degraded)
            {
                _signedOnSince = DateTimeOffset.UtcNow;
            }
            else if (next is ConnectionState.Down or ConnectionState.Closed or ConnectionState.Connecting)
            {
                _signedOnSince = null;
            }
        }

        var endpoint = Server;
        Log.StateChanged(_logger, Name, previous, next, endpoint, reason);
        StateChanged?.Invoke(new ConnectionStateChanged(previous, next, endpoint, reason, DateTimeOffset.UtcNow));
    }

    private void OnRequestTimedOut()
    {
        _health.RequestTimedOut();
        EvaluateHealth();
    }

    /// <summary>Moves between SignedOn and Degraded as the score crosses <see cref="LinkHealth.DegradedBelow"/>.</summary>
    private void EvaluateHealth()
    {
        var state = State;
        if (state is not (ConnectionState.SignedOn or ConnectionState.Degraded))
        {
            return;
        }

        var score = _health.Score(state);
        if (state == ConnectionState.SignedOn && score < LinkHealth.DegradedBelow)
        {
            SetState(ConnectionState.Degraded, $"health score {score}");
        }
        else if (state == ConnectionState.Degraded && score >= LinkHealth.DegradedBelow)
        {
            SetState(ConnectionState.SignedOn, $"health score {score}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _accepting, false);
        await _lifetime.CancelAsync().ConfigureAwait(false);
        if (_runner is not null)
        {
            await _runner.ConfigureAwait(false);
        }

        var session = _current;
        _current = null;
        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        _requests.FailAll(SidecarError.ConnectionLost, $"connection {Name} closed");
        _network.FailAll(SidecarError.ConnectionLost, $"connection {Name} closed");
        SetState(ConnectionState.Closed, "disposed");
        await _requests.DisposeAsync().ConfigureAwait(false);
        await _network.DisposeAsync().ConfigureAwait(false);
        await CloseReversalsAsync().ConfigureAwait(false);
        _metrics.Dispose();
        _lifetime.Dispose();
    }

    private static double ElapsedMs(long since) => Stopwatch.GetElapsedTime(since).TotalMilliseconds;
}
