using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;

namespace OrleansControl.Gateway.Regions;

/// <summary>
/// The server side's evidence crosses regions: the scheme region holds the server sidecars (and their session reports),
/// the bank region the clients whose silence the reports judge. Each report a server sidecar sends here goes on to the
/// peer (<c>RelaySessions</c>), with when it was received here, latest per server: a slow link sends the newest, never
/// a backlog. Best effort by design: a relay that fails is dropped (the next report, seconds later, replaces it), and
/// the peer judges each by its age (<c>held_for</c>: how long it waited here, on one clock; the peer adds nothing of our
/// clock's), so one that arrives late counts as old as it is and one that never arrives leaves
/// the peer with no evidence (the rules without it apply there: Unknown while the client is detached). Runs on the
/// side that owns the server pools, when a peer is configured.
/// </summary>
internal sealed partial class PeerSessionRelay(PeerLink link, IOptions<GatewayOptions> options, ILogger<PeerSessionRelay> logger) : BackgroundService
{
    internal const int MaxReportsPerCall = 100;
    // Latest report per server, with when it was received here on the monotonic clock (its held_for is measured on it).
    private readonly ConcurrentDictionary<string, (RelayedSessionReport Report, long HeldSince)> _latest = new(StringComparer.Ordinal);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Whether reports received here go on to the peer (this side owns the pools and has a peer).</summary>
    public bool Enabled => link.Configured && !options.Value.Peer.OwnsServerPools;

    /// <summary>How many relayed reports the peer accepted (for tests and metrics).</summary>
    public long Relayed => Interlocked.Read(ref _relayed);

    private long _relayed;

    /// <summary>Queues <paramref name="report"/> (received now from <paramref name="sidecarId"/>), replacing an unsent older one of the same server.</summary>
    public void Offer(SessionReport report, DateTimeOffset receivedAt, string sidecarId)
    {
        if (!Enabled) return;
        _latest[$"{report.ServerPool}/{report.ServerId}"] = (new RelayedSessionReport
        {
            Report = report,
            ReceivedAt = Timestamp.FromDateTimeOffset(receivedAt),
            ReporterSidecarId = sidecarId,
        }, Stopwatch.GetTimestamp());
        _wake.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled) return;
        try
        {
            while (await _wake.Reader.WaitToReadAsync(stoppingToken))
            {
                _wake.Reader.TryRead(out _);
                await SendAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        while (!_latest.IsEmpty)
        {
            var request = new RelaySessionsRequest { SourceRegion = options.Value.Region };
            foreach (var key in _latest.Keys.Take(MaxReportsPerCall))
            {
                if (_latest.TryRemove(key, out var held))
                {
                    // Its age as of now, on one clock: the peer dates it by its own receipt minus this, whatever our clocks say.
                    held.Report.HeldFor = Duration.FromTimeSpan(Stopwatch.GetElapsedTime(held.HeldSince));
                    request.Reports.Add(held.Report);
                }
            }
            try
            {
                var answer = await link.CallAsync("RelaySessions",
                    o => link.Controller!.RelaySessionsAsync(request, o).ResponseAsync, PeerCallKind.Once, cancellationToken);
                Interlocked.Add(ref _relayed, answer.Accepted);
            }
            catch (PeerUnavailableException e)
            {
                LogNotRelayed(request.Reports.Count, e.Message);
            }
            catch (RpcException e)
            {
                LogRefused(request.Reports.Count, e.StatusCode, e.Status.Detail);
            }
        }
    }

    [LoggerMessage(EventId = 3102, Level = LogLevel.Debug, Message = "{Count} session reports not relayed to the peer region ({Why}); the next reports replace them")]
    private partial void LogNotRelayed(int count, string why);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "Peer region refused {Count} relayed session reports: {Code} {Detail}")]
    private partial void LogRefused(int count, StatusCode code, string detail);
}
