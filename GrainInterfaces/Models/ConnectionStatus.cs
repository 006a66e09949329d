namespace OrleansControl.GrainInterfaces.Models;

/// <summary>
/// The life cycle of one connection. Legal moves are listed in <see cref="ConnectionTransitions"/>
/// (and drawn in docs/grains.md); anything else is an <see cref="Errors.IllegalTransitionException"/>.
/// </summary>
[GenerateSerializer, Alias("oc.ConnectionStatus")]
public enum ConnectionStatus
{
    /// <summary>Never registered (or the grain has no state yet).</summary>
    None = 0,
    /// <summary>Registered and assigned to a server; waiting for the sidecar's first heartbeat.</summary>
    Requested = 1,
    /// <summary>The sidecar is signed on at <c>ServerId</c>: transactions can flow.</summary>
    Active = 2,
    /// <summary>Still carrying traffic, but the health score fell below the degraded threshold.</summary>
    Degraded = 3,
    /// <summary>Declared dead (heartbeat timeout, a sidecar's report, or an operator); failover follows.</summary>
    Failed = 4,
    /// <summary>
    /// Being moved to <c>FailoverTarget</c>: reserved there, the command is in the sidecar's outbox; Active follows
    /// when the sidecar signs on there, another target when the deadline passes.
    /// </summary>
    Migrating = 5,
    /// <summary>Terminal: the slot on the server is released.</summary>
    Closed = 6,
    /// <summary>
    /// The sidecar went silent while detached from every gateway, and its link was signed on when last heard: absence is
    /// not failure. Nothing is moved (a move needs a sidecar); its next heartbeat says where the link is.
    /// </summary>
    Unknown = 7,
}
