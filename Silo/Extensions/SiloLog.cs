namespace OrleansControl.Silo.Extensions;

internal static partial class SiloLog
{
    [LoggerMessage(2001, LogLevel.Information,
        "Controller silo started: region {Region}, role {Role}, clustering {Clustering}, storage {Storage}, streams {Streams}, cluster {ClusterId}")]
    public static partial void Started(ILogger logger, string region, SiloRole role, ClusteringKind clustering, StorageKind storage, StreamsKind streams, string clusterId);

    [LoggerMessage(2002, LogLevel.Information, "Controller silo stopping; deactivating grains (dirty heartbeat state is written)")]
    public static partial void Stopping(ILogger logger);
}
