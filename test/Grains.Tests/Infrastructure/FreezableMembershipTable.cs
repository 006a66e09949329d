using Microsoft.Extensions.DependencyInjection;

namespace OrleansControl.Grains.Tests.Infrastructure;

/// <summary>
/// The silo's membership table with an off switch. An in-process silo that is killed still writes itself Dead on the
/// way out, which no kill -9'd process can: frozen first, its writes are dropped (the silo is told they succeeded, so
/// its shutdown does not retry them), and the survivors must find out the way they do in production, by missed probes
/// and votes (the death window). Reads still go through: they change nothing.
/// </summary>
public sealed class FreezableMembershipTable(IMembershipTable inner) : IMembershipTable
{
    private volatile bool _frozen;

    public void Freeze() => _frozen = true;

    /// <summary>Wraps whatever the clustering provider registered as the table.</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.Last(s => s.ServiceType == typeof(IMembershipTable));
        services.Remove(registered);
        services.AddSingleton<IMembershipTable>(sp => new FreezableMembershipTable((IMembershipTable)(
            registered.ImplementationFactory?.Invoke(sp) ?? registered.ImplementationInstance
            ?? ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!))));
    }

    public Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken) =>
        Gate(() => inner.InitializeMembershipTableAsync(tryInitTableVersion, cancellationToken));

    public Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken) =>
        Gate(() => inner.DeleteMembershipTableEntriesAsync(clusterId, cancellationToken));

    public Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken) =>
        Gate(() => inner.CleanupDefunctSiloEntriesAsync(beforeDate, cancellationToken));

    public Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken) => inner.ReadRowAsync(key, cancellationToken);

    public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken) => inner.ReadAllAsync(cancellationToken);

    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken) =>
        Gate(() => inner.InsertRowAsync(entry, tableVersion, cancellationToken));

    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken) =>
        Gate(() => inner.UpdateRowAsync(entry, etag, tableVersion, cancellationToken));

    public Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken) =>
        Gate(() => inner.UpdateIAmAliveAsync(entry, cancellationToken));

#pragma warning disable CS0618 // the interface still declares the old names; the runtime calls the ones above
    public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion, default);

    public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId, default);

    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate, default);

    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key, default);

    public Task<MembershipTableData> ReadAll() => ReadAllAsync(default);

    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion, default);

    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion, default);

    public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry, default);
#pragma warning restore CS0618

    private Task Gate(Func<Task> call) => _frozen ? Task.CompletedTask : call();

    private Task<bool> Gate(Func<Task<bool>> call) => _frozen ? Task.FromResult(true) : call();
}
