using System.Diagnostics;

namespace OrleansControl.Gateway.Hosting;

/// <summary>
/// The gateway's own spans (source <see cref="SourceName"/>), for what ASP.NET Core's instrumentation cannot see: a
/// command's acknowledgement arrives as one message of the long-lived sidecar stream, so its span is parented on the
/// sidecar's span named in <c>CommandAck.trace_parent</c>, and the grain calls it makes join that trace.
/// </summary>
public static class GatewayTracing
{
    public const string SourceName = "OrleansControl.Gateway";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>A span whose parent is the W3C <paramref name="traceParent"/> a peer sent; none when no listener wants it.</summary>
    public static Activity? StartFrom(string name, string traceParent, ActivityKind kind = ActivityKind.Consumer) =>
        ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
}
