using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Projection;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>Everything a connection tells the outside after its state is persisted: stream events, projection, index.</summary>
public sealed partial class ConnectionGrain
{
    private async Task PublishStatusAsync(ConnectionStatus from, ConnectionStatus to, string reason, DateTimeOffset at)
    {
        var evt = new ConnectionStatusChanged(Id, S.ClientId, S.ServerId, from, to, S.Version, S.HealthScore, S.FailoverTarget, reason, at,
            S.SidecarId, S.Region, S.ServerAddress);
        try
        {
            var provider = this.GetStreamProvider(ControllerStreams.ProviderName);
            await provider.GetStream<ConnectionStatusChanged>(ControllerStreams.StatusOf(Id)).OnNextAsync(evt);
            await provider.GetStream<ConnectionStatusChanged>(ControllerStreams.AllStatus).OnNextAsync(evt);
        }
        catch (Exception ex)
        {
            Log.PublishFailed(logger, ex, Id);
        }
    }

    private async Task PublishCommandAsync(FailoverCommand command)
    {
        try
        {
            var provider = this.GetStreamProvider(ControllerStreams.ProviderName);
            await provider.GetStream<FailoverCommand>(ControllerStreams.FailoverCommandsFor(S.ClientId)).OnNextAsync(command);
            await provider.GetStream<FailoverCommand>(ControllerStreams.AllFailoverCommands).OnNextAsync(command);
        }
        catch (Exception ex)
        {
            Log.PublishFailed(logger, ex, Id);
        }
    }

    private async Task ProjectAsync(DateTimeOffset now)
    {
        try
        {
            await projection.WriteAsync(new ConnectionProjectionRecord(
                Id, S.ClientId, S.ServerId, S.Status, S.LastHeartbeat, S.HealthScore, S.FailoverTarget, S.Version, S.ServerPool,
                S.ServerAddress, S.SidecarId, S.Region, S.StatusDetail));
        }
        catch (Exception ex)
        {
            Log.ProjectionFailed(logger, ex, Id);
        }
        await UpsertIndexAsync(now);
    }

    private Task UpsertIndexAsync(DateTimeOffset now) =>
        GrainFactory.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey).Upsert(new ConnectionSummary(
            Id, S.ClientId, S.ServerPool, S.ServerId, S.Status, S.HealthScore, S.FailoverTarget, S.Version, S.LastHeartbeat, now, S.ServerAddress,
            S.SidecarId, S.Region, S.StatusDetail));
}
