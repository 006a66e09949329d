using Microsoft.Extensions.Logging;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Projection;

namespace OrleansControl.Grains.Pools;

/// <summary>
/// The pool's projection (<see cref="IServerPoolProjection"/>, docs/redis-registry.md): after every state write the
/// servers whose projected fields changed are written and removed servers deleted, so the projection follows the
/// pool's own view (declared health, ejections, derived load) one write behind. A new activation, or a write that
/// failed, writes the whole pool again at the next chance, so a lost write heals instead of staying wrong.
/// </summary>
public sealed partial class ServerPoolGrain
{
    /// <summary>What the projection holds now (records without their write time), by server id.</summary>
    private readonly Dictionary<string, ServerProjectionRecord> _projected = new(StringComparer.Ordinal);
    private string _incarnation = "";
    private bool _projectWhole = true;

    private async Task ProjectAsync()
    {
        if (_incarnation.Length == 0) _incarnation = ConnectionIncarnation.New(Now);
        var current = S.Servers.Values.Select(s => ToProjection(ToInstance(s))).ToDictionary(r => r.ServerId, StringComparer.Ordinal);
        var changed = current.Values.Where(r => _projectWhole || !_projected.TryGetValue(r.ServerId, out var held) || held != r).ToList();
        var removed = _projected.Keys.Where(id => !current.ContainsKey(id)).ToList();
        if (!_projectWhole && changed.Count == 0 && removed.Count == 0) return;
        var now = Now;
        var dated = changed.Select(r => r with { ProjectedAt = now }).ToList();
        try
        {
            if (_projectWhole) await projection.ReplaceAsync(PoolId, dated);
            else await projection.WriteAsync(PoolId, dated, removed);
            _projectWhole = false;
        }
        catch (Exception e)
        {
            _projectWhole = true;
            LogPoolProjectionFailed(e, PoolId);
        }
        _projected.Clear();
        foreach (var (id, r) in current) _projected[id] = r;
    }

    private ServerProjectionRecord ToProjection(ServerInstance s) => new(
        PoolId, s.ServerId, s.Address, s.Zone, s.Capacity, s.Load, s.Health, s.Suspect, s.EjectedUntil,
        s.Suspect ? s.HealthDetail : s.Health == ServerHealth.Healthy ? "" : $"declared {s.Health.ToString().ToLowerInvariant()}",
        _incarnation);

    [LoggerMessage(EventId = 3040, Level = LogLevel.Warning, Message = "Pool {PoolId}: projection write failed; the whole pool is written again at the next change")]
    private partial void LogPoolProjectionFailed(Exception exception, string poolId);
}
