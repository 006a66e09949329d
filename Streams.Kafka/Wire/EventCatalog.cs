using System.Collections.Frozen;
using OrleansControl.GrainInterfaces.Streams;

namespace OrleansControl.Streams.Kafka.Wire;

/// <summary>One event type on the bus: its .NET record, its CloudEvents <c>type</c>, and what its <c>subject</c> is.</summary>
public sealed record EventKind(Type ClrType, string CloudEventType, Func<object, string?> Subject);

/// <summary>
/// The .NET record ⇄ CloudEvents <c>type</c> table. A record not listed cannot be published on the bus (a typed error
/// says so), and a type read that is not listed is skipped with a warning: the table is the contract, docs/events.md
/// describes each entry.
/// </summary>
public sealed class EventCatalog
{
    private readonly FrozenDictionary<Type, EventKind> byClr;
    private readonly FrozenDictionary<string, EventKind> byType;

    public EventCatalog(IEnumerable<EventKind> kinds)
    {
        var list = kinds.ToList();
        byClr = list.ToFrozenDictionary(k => k.ClrType);
        byType = list.ToFrozenDictionary(k => k.CloudEventType, StringComparer.Ordinal);
    }

    /// <summary>The controller's events (GrainInterfaces/Streams).</summary>
    public static EventCatalog Controller { get; } = new(
    [
        new(typeof(ConnectionStatusChanged), "oc.connection.status-changed", e => ((ConnectionStatusChanged)e).ConnectionId),
        new(typeof(FailoverCommand), "oc.failover.command", e => ((FailoverCommand)e).ConnectionId),
        new(typeof(ServerHealthChanged), "oc.server.health-changed", e => ((ServerHealthChanged)e).ServerId),
        new(typeof(ConnectionLost), "oc.connection.lost", e => ((ConnectionLost)e).ConnectionId),
        new(typeof(ServerStopSending), "oc.server.stop-sending", e => ((ServerStopSending)e).ConnectionId),
        new(typeof(ConnectionEstablished), "oc.connection.established", e => ((ConnectionEstablished)e).ConnectionId),
        new(typeof(FailoverFailed), "oc.failover.failed", e => ((FailoverFailed)e).ConnectionId),
        new(typeof(ConnectionHealthReport), "oc.health.report", e => ((ConnectionHealthReport)e).ConnectionId),
        new(typeof(ClientDrActivated), "oc.client.dr-activated", e => ((ClientDrActivated)e).ConnectionId),
    ]);

    public IEnumerable<EventKind> Kinds => byClr.Values;

    public EventKind For(Type clrType) => byClr.TryGetValue(clrType, out var kind)
        ? kind
        : throw new KafkaStreamException($"{clrType.Name} has no CloudEvents type in the event catalog; it cannot be published on Kafka");

    public bool TryFor(string cloudEventType, out EventKind kind) => byType.TryGetValue(cloudEventType, out kind!);
}
