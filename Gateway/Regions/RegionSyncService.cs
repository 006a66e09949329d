using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Services;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;

namespace OrleansControl.Gateway.Regions;

/// <summary>
/// Keeps the peer region's copy of what this region owns current, and gets it current again quickly after a
/// partition. Three triggers, one worker:
/// <list type="bullet">
/// <item><b>A change</b> (a status event of one of our connections): that entry is pushed after
/// <see cref="PeerRegionOptions.PushDelay"/>, with whatever else changed meanwhile. So the effect of a verdict the
/// peer relayed (our connections failing over) reaches it at once, not a round later.</item>
/// <item><b>The link's return</b> (<see cref="PeerLink.Restored"/>: a probe or any call succeeded again): a full
/// round at once: the queued calls (<see cref="PeerOutbox"/>) first, then every entry we own.</item>
/// <item><b>A period</b>: a full round every <see cref="PeerRegionOptions.SyncInterval"/> while the link is up (what no
/// event announced, e.g. a health score); while it is down, a probe every <see cref="PeerRegionOptions.ProbeInterval"/>.</item>
/// </list>
/// The peer keeps, per connection, the higher version, so repeating a push is harmless and one round each way
/// converges both registries. Both regions run it.
/// </summary>
internal sealed partial class RegionSyncService : BackgroundService
{
    private const int BatchSize = 500;
    private readonly PeerLink _link;
    private readonly PeerOutbox _outbox;
    private readonly PeerAssignments _assignments;
    private readonly IClusterClient _cluster;
    private readonly GatewayOptions _options;
    private readonly ILogger<RegionSyncService> _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ConcurrentDictionary<string, byte> _changed = new(StringComparer.Ordinal);
    private StreamSubscriptionHandle<ConnectionStatusChanged>? _subscription;
    private volatile bool _fullRoundDue = true;

    public RegionSyncService(PeerLink link, PeerOutbox outbox, PeerAssignments assignments, IClusterClient cluster,
        IOptions<GatewayOptions> options, ILogger<RegionSyncService> logger)
    {
        _link = link;
        _outbox = outbox;
        _assignments = assignments;
        _cluster = cluster;
        _options = options.Value;
        _logger = logger;
        _link.Restored += () =>
        {
            _fullRoundDue = true;
            _wake.Writer.TryWrite(true);
        };
    }

    private PeerRegionOptions Peer => _options.Peer;

    /// <summary>Pushes <paramref name="connectionId"/> to the peer soon (after <see cref="PeerRegionOptions.PushDelay"/>).</summary>
    public void Changed(string connectionId)
    {
        _changed[connectionId] = 0;
        _wake.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_link.Configured) return;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await SubscribeAsync();
                if (_link.IsDown)
                {
                    await Task.Delay(Peer.ProbeInterval, stoppingToken);
                    _wake.Reader.TryRead(out _);
                    if (!await _link.ProbeAsync(stoppingToken))
                    {
                        // Bank side: the pool mirrors take the server health the scheme wrote to its Redis replica.
                        await _assignments.RefreshMirrorsFromReplicaAsync(stoppingToken);
                        continue;
                    }
                    _fullRoundDue = true;
                }
                else if (!_fullRoundDue)
                {
                    var woken = await WaitAsync(Peer.SyncInterval, stoppingToken);
                    if (woken && Peer.PushDelay > TimeSpan.Zero) await Task.Delay(Peer.PushDelay, stoppingToken);
                    if (!woken) _fullRoundDue = true;
                }

                try
                {
                    if (_fullRoundDue)
                    {
                        _fullRoundDue = false;
                        await SyncOnceAsync(stoppingToken);
                    }
                    else
                    {
                        await PushChangedAsync(stoppingToken);
                    }
                }
                catch (PeerUnavailableException e)
                {
                    _fullRoundDue = true;
                    LogSkipped(e.Message);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _fullRoundDue = true;
                    LogFailed(e);
                    await Task.Delay(Peer.ProbeInterval, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            if (_subscription is not null)
            {
                try
                {
                    await _subscription.UnsubscribeAsync();
                }
                catch (Exception)
                {
                    // The cluster is going away with us.
                }
            }
        }
    }

    /// <summary>Waits for a change or the link's return (true), or for <paramref name="period"/> to pass (false).</summary>
    private async Task<bool> WaitAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        if (_wake.Reader.TryRead(out _)) return true;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(period);
        try
        {
            await _wake.Reader.WaitToReadAsync(timeout.Token);
            _wake.Reader.TryRead(out _);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Our connections' status events mark them changed (the memory stream is at most once: the period covers a loss).
    /// On Kafka both regions share the bus, so the peer's events arrive here too: each goes to its replica, which keeps
    /// it if its version is higher (<see cref="IPeerReplicaGrain.ApplyEvent"/>). That is the second way between the
    /// regions: with the gRPC link cut, a failover decided there still shows here, and SyncState later finds it done.
    /// </summary>
    private async Task SubscribeAsync()
    {
        if (_subscription is not null) return;
        try
        {
            var stream = _cluster.GetStreamProvider(ControllerStreams.ProviderName).GetStream<ConnectionStatusChanged>(ControllerStreams.AllStatus);
            _subscription = await stream.SubscribeAsync((e, _) =>
            {
                if (e.Region is null || e.Region == _options.Region)
                {
                    Changed(e.ConnectionId);
                    return Task.CompletedTask;
                }
                return ApplyPeerEventAsync(e);
            });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The cluster is not up yet: full rounds still run; try again next time.
            LogSubscribeFailed(e.Message);
        }
    }

    private async Task ApplyPeerEventAsync(ConnectionStatusChanged e)
    {
        try
        {
            await _cluster.GetGrain<IPeerReplicaGrain>(e.ConnectionId).ApplyEvent(e);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not lost: the owner's next SyncState brings the same version (and counts it as repaired).
            LogPeerEventFailed(e.ConnectionId, e.Version, ex.Message);
        }
    }

    /// <summary>A full round: the queued calls, every entry this region owns, and (bank side) the pool mirrors.</summary>
    public async Task SyncOnceAsync(CancellationToken cancellationToken)
    {
        if (_link.IsOpen) throw new PeerUnavailableException("circuit open");
        _changed.Clear(); // everything goes now; what changes from here on is marked again
        await _outbox.FlushAsync(cancellationToken); // also when there is nothing of ours to push

        var index = _cluster.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey);
        string? token = null;
        var sent = 0;
        var pools = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var page = await index.List(new ConnectionQuery(PageSize: BatchSize, PageToken: token, Replicas: false));
            token = page.NextPageToken;
            if (page.Items.IsEmpty) break;
            pools.UnionWith(page.Items.Select(i => i.ServerPool));
            sent += await PushAsync(page.Items.Where(i => i.Version >= 1).Select(i => i.ToProto(_options.Region)), cancellationToken);
        }
        while (!string.IsNullOrEmpty(token));
        LogSynced(sent, _link.PeerRegion ?? "?");

        // Bank side: the mirrors of the scheme's pools take its current servers and health.
        if (_assignments.Enabled)
        {
            foreach (var pool in pools) await _assignments.RefreshMirrorAsync(pool, cancellationToken);
        }

        // A round that called nothing probes instead, so a side that owns nothing still learns within a round that the
        // link is down (and completes its answers from the peer's Redis replica from then on, PeerRedisReplica).
        if (sent == 0 && (pools.Count == 0 || !_assignments.Enabled) && !await _link.ProbeAsync(cancellationToken))
            throw new PeerUnavailableException("probe failed");
    }

    /// <summary>Pushes the connections marked changed, read from their grains (the index may lag them).</summary>
    private async Task PushChangedAsync(CancellationToken cancellationToken)
    {
        while (!_changed.IsEmpty)
        {
            var ids = _changed.Keys.Take(BatchSize).ToList();
            foreach (var id in ids) _changed.TryRemove(id, out _);
            var entries = new List<Connection>(ids.Count);
            foreach (var id in ids)
            {
                try
                {
                    var snapshot = await _cluster.GetGrain<IConnectionGrain>(id).GetState();
                    if (snapshot.Version >= 1) entries.Add(snapshot.ToProto(_options.Region));
                }
                catch (ConnectionNotFoundException)
                {
                    // Gone (or never ours): nothing to push.
                }
            }
            try
            {
                await PushAsync(entries, cancellationToken);
            }
            catch (PeerUnavailableException)
            {
                foreach (var id in ids) _changed[id] = 0;
                throw;
            }
        }
    }

    /// <summary>
    /// The queued calls, then <paramref name="entries"/>: the peer learns of an assignment made while it was away before
    /// it sees the entry that holds it. Not retried here: a push that failed is redone by the next full round, after
    /// the replay, never ahead of a call queued in the meantime.
    /// </summary>
    private async Task<int> PushAsync(IEnumerable<Connection> entries, CancellationToken cancellationToken)
    {
        var request = new SyncStateRequest { SourceRegion = _options.Region };
        request.Entries.AddRange(entries);
        await _outbox.FlushAsync(cancellationToken);
        if (request.Entries.Count == 0) return 0;
        var response = await _link.CallAsync("SyncState",
            o => _link.Controller!.SyncStateAsync(request, o).ResponseAsync, PeerCallKind.Once, cancellationToken);
        if (response.Newer.Count > 0) ReportPeerNewer(request.Entries, response.Newer);
        return request.Entries.Count;
    }

    /// <summary>
    /// The peer holds copies of our entries that it ranks above what we sent. Of the same registration, that is a
    /// later version the bus brought while this push was read (our next push is as new). Of another registration, its
    /// copy's incarnation is later than our current one: our clock went back past the old registration, and the copy
    /// will not follow us; that is said loudly, once per push, with both incarnations.
    /// </summary>
    private void ReportPeerNewer(IEnumerable<Connection> sent, IEnumerable<Connection> newer)
    {
        var ours = sent.ToDictionary(c => c.ConnectionId, StringComparer.Ordinal);
        var count = 0;
        foreach (var copy in newer)
        {
            count++;
            if (ours.TryGetValue(copy.ConnectionId, out var mine) && ConnectionIncarnation.Differ(mine.Incarnation, copy.Incarnation))
                LogPeerHoldsLaterIncarnation(copy.ConnectionId, copy.Incarnation, mine.Incarnation);
        }
        LogPeerNewer(count);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pushed {Count} registry entries to region {Peer}")]
    private partial void LogSynced(int count, string peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer holds {Count} newer copies of our entries (they converge on its next push)")]
    private partial void LogPeerNewer(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer's copy of {ConnectionId} is of incarnation {Theirs}, later than ours {Ours}: this controller's clock went back; the copy does not follow until it passes")]
    private partial void LogPeerHoldsLaterIncarnation(string connectionId, string theirs, string ours);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Registry sync skipped: {Why}")]
    private partial void LogSkipped(string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry sync failed")]
    private partial void LogFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer event for {ConnectionId} version {Version} not applied to its replica ({Why}); the next SyncState brings it")]
    private partial void LogPeerEventFailed(string connectionId, long version, string why);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Status events not subscribed yet: {Why}")]
    private partial void LogSubscribeFailed(string why);
}
