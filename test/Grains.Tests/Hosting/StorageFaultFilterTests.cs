using Orleans.Storage;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.Grains.Hosting;
using StackExchange.Redis;

namespace OrleansControl.Grains.Tests.Hosting;

public sealed class StorageFaultFilterTests
{
    [Fact]
    public void An_etag_conflict_is_a_store_lost_or_replaced_and_drops_the_activation()
    {
        var fault = StorageFaultFilter.Classify(new Orleans.Runtime.OrleansException("write failed", new InconsistentStateException("Version conflict")));
        Assert.NotNull(fault);
        Assert.True(fault.Value.StateChangedUnderneath);
        Assert.Contains("lost or replaced", fault.Value.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Redis_not_answering_is_unavailable_without_dropping_anything_and_typed_faults_are_handed_on()
    {
        var down = StorageFaultFilter.Classify(new RedisConnectionException(ConnectionFailureType.SocketFailure, CommandFlags.None, "refused", null, CommandStatus.Unknown));
        Assert.Equal((false, null), (down!.Value.StateChangedUnderneath, down.Value.Typed));
        Assert.Contains("RedisConnectionException", down.Value.Reason, StringComparison.Ordinal);

        var typed = new StorageUnavailableException("connection/c-1", "storage 'controller' write failed: RedisTimeoutException");
        Assert.Same(typed, StorageFaultFilter.Classify(new Orleans.Runtime.OrleansException("wrapped", typed))!.Value.Typed);

        Assert.Null(StorageFaultFilter.Classify(new ConnectionNotFoundException("c-1")));
        Assert.Null(StorageFaultFilter.Classify(new InvalidOperationException("a bug")));
    }
}
