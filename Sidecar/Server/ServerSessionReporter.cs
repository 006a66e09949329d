using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Sidecar.Server;

/// <summary>
/// The server side of "absence is not failure": holds a SidecarService.Attach stream to the controller and sends,
/// every <see cref="ServerSessionReportOptions.ReportInterval"/> and at once when a session opens or closes, the full
/// list of sessions the <see cref="IsoServer"/> holds, by client address. The controller compares it with a silent
/// client's end of the link: still held means its control path is cut; gone means it died. The data path never waits
/// on it; an unreachable controller is retried with backoff, moving to the next gateway at once.
/// </summary>
public sealed class ServerSessionReporter : IAsyncDisposable
{
    private readonly IsoServer _server;
    private readonly ServerSessionReportOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _changed = new(0, 1);
    private readonly ControllerTrust[] _trust;
    private Task? _loop;

    public ServerSessionReporter(IsoServer server, ServerSessionReportOptions options, ILogger? logger = null)
    {
        var errors = options.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"invalid ServerSessionReportOptions: {string.Join("; ", errors)}", nameof(options));
        }

        _server = server;
        _options = options;
        _trust = new ControllerTrust[options.ControllerAddresses.Count];
        _logger = logger ?? NullLogger.Instance;
        _server.SessionChanged += OnSessionChanged;
    }

    /// <summary>Whether a stream is attached now.</summary>
    public bool Attached { get; private set; }

    /// <summary>How many reports the controller was sent.</summary>
    public long ReportsSent => Interlocked.Read(ref _sent);

    private long _sent;

    public void Start()
    {
        if (_options.ControllerAddresses.Count > 0)
        {
            _loop ??= Task.Run(() => RunAsync(_stop.Token));
        }
    }

    private void OnSessionChanged(ServerSessionEvent change)
    {
        if (change.Event is "opened" or "signed-on" or "signed-off" or "closed" && _changed.CurrentCount == 0)
        {
            try
            {
                _changed.Release();
            }
            catch (SemaphoreFullException)
            {
                // already signalled: one report carries every change since
            }
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var channels = _options.ControllerAddresses.Select(ChannelFor).ToArray();
        var backoff = new ReconnectBackoff(_options.RetryInitialDelay, _options.RetryMaxDelay);
        var current = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                string error;
                _trust[current].Forget();
                try
                {
                    await AttachAsync(new SidecarService.SidecarServiceClient(channels[current]), backoff, ct).ConfigureAwait(false);
                    error = "stream ended by controller";
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    // A refused certificate is said in words (which one, and the setting that fixes it).
                    error = _trust[current].Rejection is { } refused ? $"TLS: {refused}"
                        : ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message;
                }

                Attached = false;
                LastError = error;
                current = (current + 1) % channels.Length;
                var delay = current != 0 ? TimeSpan.FromMilliseconds(50) : backoff.Next();
                Log.SessionReporterUnreachable(_logger, _options.ServerId, (long)delay.TotalMilliseconds, error);
                await Task.Delay(delay, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    /// <summary>One channel per gateway, with the agent's TLS code: its client certificate, the private CA (or system roots).</summary>
    private GrpcChannel ChannelFor(string address, int index)
    {
        var trust = _trust[index] = new ControllerTrust(address, _options);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(20),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
        };
        ControllerAccess.Apply(_options, trust, handler);
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            InitialReconnectBackoff = _options.RetryInitialDelay,
            MaxReconnectBackoff = _options.RetryMaxDelay,
        });
    }

    /// <summary>Why the last attempt to attach failed, in words (a refused certificate names the setting that fixes it).</summary>
    public string? LastError { get; private set; }

    private async Task AttachAsync(SidecarService.SidecarServiceClient client, ReconnectBackoff backoff, CancellationToken ct)
    {
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var headers = ControllerAccess.Headers(_options);

        using var call = client.Attach(headers, cancellationToken: stream.Token);
        var writes = new SemaphoreSlim(1, 1); // gRPC streams take one write at a time
        await call.RequestStream.WriteAsync(new SidecarMessage
        {
            Register = new SidecarRegister { SidecarId = _options.SidecarId, Region = _options.Region },
        }, stream.Token).ConfigureAwait(false);

        var reports = Task.CompletedTask;
        try
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync(stream.Token).ConfigureAwait(false))
            {
                switch (message.BodyCase)
                {
                    case ControllerMessage.BodyOneofCase.Attached:
                        Attached = true;
                        backoff.Reset();
                        Log.SessionReporterAttached(_logger, _options.ServerId);
                        reports = ReportLoopAsync(call.RequestStream, writes, stream.Token);
                        break;
                    case ControllerMessage.BodyOneofCase.Command:
                        // A server's sidecar carries no client link: say so rather than leave the command pending.
                        await WriteAsync(call.RequestStream, writes, new SidecarMessage
                        {
                            CommandAck = new CommandAck
                            {
                                CommandId = message.Command.CommandId,
                                Sequence = message.Command.Sequence,
                                Success = false,
                                Detail = "a server's sidecar carries no client link; command not carried out",
                            },
                        }, stream.Token).ConfigureAwait(false);
                        break;
                    case ControllerMessage.BodyOneofCase.Rejected:
                        Log.SessionReportRejected(_logger, _options.ServerId, message.Rejected.Code, message.Rejected.Message);
                        break;
                }
            }
        }
        finally
        {
            Attached = false;
            await stream.CancelAsync().ConfigureAwait(false);
            try
            {
                await reports.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException or InvalidOperationException)
            {
            }
        }
    }

    private async Task ReportLoopAsync(IClientStreamWriter<SidecarMessage> requests, SemaphoreSlim writes, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await WriteAsync(requests, writes, new SidecarMessage { SessionReport = Report() }, ct).ConfigureAwait(false);
            Interlocked.Increment(ref _sent);
            await _changed.WaitAsync(_options.ReportInterval, ct).ConfigureAwait(false);
        }
    }

    private static async Task WriteAsync(IClientStreamWriter<SidecarMessage> requests, SemaphoreSlim writes, SidecarMessage message, CancellationToken ct)
    {
        await writes.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await requests.WriteAsync(message, ct).ConfigureAwait(false);
        }
        finally
        {
            writes.Release();
        }
    }

    /// <summary>Every session the server holds now, by the client's address as the client itself names its end.</summary>
    internal SessionReport Report()
    {
        var report = new SessionReport
        {
            ServerPool = _options.ServerPool,
            ServerId = _options.ServerId,
            ServerAddress = _server.Endpoint is { } endpoint ? IsoEndpoint.Normalize(endpoint) ?? "" : "",
        };
        foreach (var session in _server.Sessions)
        {
            report.Sessions.Add(new HeldSession
            {
                ClientAddress = IsoEndpoint.Normalize(session.Remote),
                SignedOnAs = session.ClientId ?? "",
                SignedOn = session.SignedOn,
                OpenedAt = Timestamp.FromDateTimeOffset(session.OpenedAt),
            });
        }

        return report;
    }

    public async ValueTask DisposeAsync()
    {
        _server.SessionChanged -= OnSessionChanged;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
        _changed.Dispose();
    }
}
