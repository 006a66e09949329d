using System.Collections.Immutable;

namespace OrleansControl.GrainInterfaces.Models;

/// <summary>
/// One client session a scheme server holds, as its server-side sidecar sees it: the client's address (the remote end
/// of the TCP session, normalised to host:port with IPv4-mapped addresses as IPv4), the institution id it signed on
/// with, whether it is signed on.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.HeldSession")]
public sealed record HeldSession(
    [property: Id(0)] string ClientAddress,
    [property: Id(1)] string? SignedOnAs,
    [property: Id(2)] bool SignedOn,
    [property: Id(3)] DateTimeOffset OpenedAt);

/// <summary>Every session one server holds now (a full list, not a change), sent by its server-side sidecar.</summary>
[GenerateSerializer, Immutable, Alias("oc.ServerSessionReport")]
public sealed record ServerSessionReport(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string? ServerAddress,
    [property: Id(2)] string ReporterSidecarId,
    [property: Id(3)] ImmutableArray<HeldSession> Sessions);

/// <summary>What the server side says of one client's session.</summary>
[GenerateSerializer, Alias("oc.SessionVerdict")]
public enum SessionVerdict
{
    /// <summary>No fresh report from the server's sidecar since the client was last heard: the server side says nothing.</summary>
    NoEvidence = 0,
    /// <summary>A report received after the client went silent still lists its session: the link is there.</summary>
    Seen = 1,
    /// <summary>A report received after the client went silent no longer lists its session: the client is gone.</summary>
    Gone = 2,
}

/// <summary>The server side's answer about one client session, with when the deciding report arrived.</summary>
[GenerateSerializer, Immutable, Alias("oc.SessionEvidence")]
public sealed record SessionEvidence(
    [property: Id(0)] SessionVerdict Verdict,
    [property: Id(1)] DateTimeOffset? ReportedAt,
    [property: Id(2)] string Detail);
