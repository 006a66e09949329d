using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces.Errors;

/// <summary>
/// Base of the typed errors the grains throw; the gateway maps each subtype to a gRPC status code
/// (see docs/grains.md). Messages never carry card data.
/// </summary>
[GenerateSerializer, Alias("oc.ControlPlaneException")]
public abstract class ControlPlaneException : Exception
{
    protected ControlPlaneException() { }

    protected ControlPlaneException(string message) : base(message) { }

    protected ControlPlaneException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>The requested status change is not in the state machine. gRPC: FailedPrecondition.</summary>
[GenerateSerializer, Alias("oc.IllegalTransitionException")]
public sealed class IllegalTransitionException : ControlPlaneException
{
    public IllegalTransitionException() { }

    public IllegalTransitionException(string connectionId, ConnectionStatus from, ConnectionStatus to, string? why = null)
        : base($"connection '{connectionId}': transition {from} -> {to} is not allowed{(why is null ? "" : $" ({why})")}")
    {
        ConnectionId = connectionId;
        From = from;
        To = to;
    }

    [Id(0)] public string ConnectionId { get; init; } = "";
    [Id(1)] public ConnectionStatus From { get; init; }
    [Id(2)] public ConnectionStatus To { get; init; }
}

/// <summary>An operator's expected version does not match the current one. gRPC: Aborted.</summary>
[GenerateSerializer, Alias("oc.VersionConflictException")]
public sealed class VersionConflictException : ControlPlaneException
{
    public VersionConflictException() { }

    public VersionConflictException(string connectionId, long expected, long actual)
        : base($"connection '{connectionId}': expected version {expected} but it is at {actual}")
    {
        ConnectionId = connectionId;
        Expected = expected;
        Actual = actual;
    }

    [Id(0)] public string ConnectionId { get; init; } = "";
    [Id(1)] public long Expected { get; init; }
    [Id(2)] public long Actual { get; init; }
}

/// <summary>The connection was never registered. gRPC: NotFound.</summary>
[GenerateSerializer, Alias("oc.ConnectionNotFoundException")]
public sealed class ConnectionNotFoundException : ControlPlaneException
{
    public ConnectionNotFoundException() { }

    public ConnectionNotFoundException(string connectionId)
        : base($"connection '{connectionId}' is not registered") => ConnectionId = connectionId;

    [Id(0)] public string ConnectionId { get; init; } = "";
}

/// <summary>The connection id is already registered by another client. gRPC: AlreadyExists.</summary>
[GenerateSerializer, Alias("oc.ConnectionAlreadyExistsException")]
public sealed class ConnectionAlreadyExistsException : ControlPlaneException
{
    public ConnectionAlreadyExistsException() { }

    public ConnectionAlreadyExistsException(string connectionId, string existingClientId)
        : base($"connection '{connectionId}' is already registered by client '{existingClientId}'")
    {
        ConnectionId = connectionId;
        ExistingClientId = existingClientId;
    }

    [Id(0)] public string ConnectionId { get; init; } = "";
    [Id(1)] public string ExistingClientId { get; init; } = "";
}

/// <summary>No healthy server in the pool has a free slot. gRPC: ResourceExhausted.</summary>
[GenerateSerializer, Alias("oc.PoolCapacityExceededException")]
public sealed class PoolCapacityExceededException : ControlPlaneException
{
    public PoolCapacityExceededException() { }

    public PoolCapacityExceededException(string poolId, int capacity, int load)
        : base($"server pool '{poolId}' has no healthy server with free capacity (load {load} of {capacity})")
    {
        PoolId = poolId;
        Capacity = capacity;
        Load = load;
    }

    [Id(0)] public string PoolId { get; init; } = "";
    [Id(1)] public int Capacity { get; init; }
    [Id(2)] public int Load { get; init; }
}

/// <summary>The server id is not in the pool. gRPC: NotFound.</summary>
[GenerateSerializer, Alias("oc.ServerNotFoundException")]
public sealed class ServerNotFoundException : ControlPlaneException
{
    public ServerNotFoundException() { }

    public ServerNotFoundException(string poolId, string serverId)
        : base($"server '{serverId}' is not in pool '{poolId}'")
    {
        PoolId = poolId;
        ServerId = serverId;
    }

    [Id(0)] public string PoolId { get; init; } = "";
    [Id(1)] public string ServerId { get; init; } = "";
}

/// <summary>A request argument is malformed (empty id, negative capacity...). gRPC: InvalidArgument.</summary>
[GenerateSerializer, Alias("oc.InvalidRequestException")]
public sealed class InvalidRequestException : ControlPlaneException
{
    public InvalidRequestException() { }

    public InvalidRequestException(string field, string problem)
        : base($"{field}: {problem}") => Field = field;

    [Id(0)] public string Field { get; init; } = "";
}

/// <summary>
/// A change that would pull the ground from under a server's connections (its address or zone, while it carries
/// some): move or drain them first. gRPC: FailedPrecondition.
/// </summary>
[GenerateSerializer, Alias("oc.ServerInUseException")]
public sealed class ServerInUseException : ControlPlaneException
{
    public ServerInUseException() { }

    public ServerInUseException(string poolId, string serverId, string field, int load)
        : base($"server.{field}: server '{serverId}' of pool '{poolId}' carries {load} connection{(load == 1 ? "" : "s")}; " +
               $"its {field} changes only once it carries none (mark it unhealthy to move them, or remove it and add it anew)")
    {
        PoolId = poolId;
        ServerId = serverId;
        Load = load;
    }

    [Id(0)] public string PoolId { get; init; } = "";
    [Id(1)] public string ServerId { get; init; } = "";
    [Id(2)] public int Load { get; init; }
}

/// <summary>
/// The grain's storage could not be read or written (Redis down or timing out), or refused a write because the stored
/// state is not the one this activation read (Redis restarted empty or was replaced; the activation is dropped so the
/// next call reloads). Retryable: nothing was changed. gRPC: Unavailable.
/// </summary>
[GenerateSerializer, Alias("oc.StorageUnavailableException")]
public sealed class StorageUnavailableException : ControlPlaneException
{
    public StorageUnavailableException() { }

    public StorageUnavailableException(string grain, string reason, Exception? inner = null)
        : base($"{grain}: registry storage unavailable ({reason}); retry", inner)
    {
        Grain = grain;
        Reason = reason;
    }

    [Id(0)] public string Grain { get; init; } = "";
    [Id(1)] public string Reason { get; init; } = "";
}
