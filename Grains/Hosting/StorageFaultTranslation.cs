using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using OrleansControl.GrainInterfaces.Errors;

namespace OrleansControl.Grains.Hosting;

/// <summary>
/// Wraps a named grain storage provider so that its failures leave as <see cref="StorageUnavailableException"/>, also
/// where no grain call filter sees them: the state read of an activation (Orleans hands that failure to the caller
/// wrapped in an OrleansException, which the gateway unwraps). An etag conflict stays an InconsistentStateException:
/// <see cref="StorageFaultFilter"/> drops the activation for it.
/// </summary>
public static class StorageFaultTranslation
{
    /// <summary>Call after the provider named <paramref name="name"/> was added (AddRedisGrainStorage and the like).</summary>
    public static IServiceCollection TranslateStorageFaults(this IServiceCollection services, string name)
    {
        var original = services.LastOrDefault(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, name))
            ?? throw new InvalidOperationException($"no grain storage named '{name}' is registered");
        var factory = original.KeyedImplementationFactory
            ?? throw new InvalidOperationException($"grain storage '{name}' is not registered by a factory");
        services.Remove(original);
        services.AddKeyedSingleton<IGrainStorage>(name, (sp, key) => new TranslatingGrainStorage(name, (IGrainStorage)factory(sp, key)));
        return services;
    }

    private sealed class TranslatingGrainStorage(string name, IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
    {
        public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            try
            {
                await inner.ReadStateAsync(stateName, grainId, grainState);
            }
            catch (Exception e) when (e is not InconsistentStateException)
            {
                throw Unavailable(e, grainId, "read");
            }
        }

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            try
            {
                await inner.WriteStateAsync(stateName, grainId, grainState);
            }
            catch (Exception e) when (e is not InconsistentStateException)
            {
                throw Unavailable(e, grainId, "write");
            }
        }

        public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            try
            {
                await inner.ClearStateAsync(stateName, grainId, grainState);
            }
            catch (Exception e) when (e is not InconsistentStateException)
            {
                throw Unavailable(e, grainId, "clear");
            }
        }

        // The provider's own lifecycle (connecting at start-up) still runs: Orleans finds it through this wrapper.
        public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);

        private StorageUnavailableException Unavailable(Exception e, GrainId grainId, string operation)
        {
            var innermost = e;
            while (innermost.InnerException is not null) innermost = innermost.InnerException;
            return new StorageUnavailableException(grainId.ToString(), $"storage '{name}' {operation} failed: {innermost.GetType().Name}", e);
        }
    }
}
