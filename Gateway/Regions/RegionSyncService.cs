using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Services;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Regions;

/// <summary>
/// Anti-entropy towards the peer region: every <see cref="PeerRegionOptions.SyncInterval"/> this region pushes the
/// entries it owns (id, status, server, version) with SyncState; the peer keeps, per connection, the higher version.
/// Both regions run it, so after a partition heals one round each way converges both registries. Calls queued for
/// the peer while the link was down (<see cref="PeerOutbox"/>) are replayed first.
/// </summary>
internal sealed partial class RegionSyncService(
    PeerLink link,
    PeerOutbox outbox,
    IClusterClient cluster,
    IOptions<GatewayOptions> options,
    ILogger<RegionSyncService> logger) : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!link.Configured) return;
        using var timer = new PeriodicTimer(options.Value.Peer.SyncInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SyncOnceAsync(stoppingToken);
            }
            catch (PeerUnavailableException e)
            {
                LogSkipped(e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e);
            }
        }
    }

    public async Task SyncOnceAsync(CancellationToken cancellationToken)
    {
        if (link.IsOpen) throw new PeerUnavailableException("circuit open");
        await outbox.FlushAsync(cancellationToken);

        var region = options.Value.Region;
        var index = cluster.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey);
        string? token = null;
        var sent = 0;
        do
        {
            var page = await index.List(new ConnectionQuery(PageSize: BatchSize, PageToken: token));
            token = page.NextPageToken;
            if (page.Items.IsEmpty) break;
            var request = new SyncStateRequest { SourceRegion = region };
            request.Entries.AddRange(page.Items.Where(i => i.Version >= 1).Select(i => i.ToProto(region)));
            var response = await link.CallAsync("SyncState",
                o => link.Controller!.SyncStateAsync(request, o).ResponseAsync, idempotent: true, cancellationToken);
            sent += request.Entries.Count;
            if (response.Newer.Count > 0) LogPeerNewer(response.Newer.Count);
        }
        while (!string.IsNullOrEmpty(token));
        LogSynced(sent, link.PeerRegion ?? "?");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pushed {Count} registry entries to region {Peer}")]
    private partial void LogSynced(int count, string peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer holds {Count} newer copies of our entries (they converge on its next push)")]
    private partial void LogPeerNewer(int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Registry sync skipped: {Why}")]
    private partial void LogSkipped(string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry sync failed")]
    private partial void LogFailed(Exception e);
}
