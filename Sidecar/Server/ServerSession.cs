using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Sidecar.Server;

/// <summary>One client's session as the server tracks it.</summary>
public sealed record ServerSessionInfo(
    long SessionId,
    string Remote,
    string? ClientId,
    bool SignedOn,
    bool SendingStopped,
    DateTimeOffset OpenedAt);

/// <summary>Something that happened to a server session (opened, signed-on, signed-off, closed).</summary>
public sealed record ServerSessionEvent(string Event, ServerSessionInfo Session, string? Detail);

internal sealed class ServerSession(IsoSession session)
{
    public IsoSession Session { get; } = session;

    public DateTimeOffset OpenedAt { get; } = DateTimeOffset.UtcNow;

    public volatile string? ClientId;

    public volatile bool SignedOn;

    public volatile bool SendingStopped;

    public IsoPeer Peer => new(Session.Id, Session.Remote, ClientId);

    public ServerSessionInfo Info => new(Session.Id, Session.Remote, ClientId, SignedOn, SendingStopped, OpenedAt);

    /// <summary>By institution id from sign-on, or by remote address when the client sent none.</summary>
    public bool Is(string client) => ClientId == client || Session.Remote == client;
}
