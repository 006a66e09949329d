using System.Diagnostics;

namespace OrleansControl.Sidecar.Telemetry;

/// <summary>
/// The sidecar's spans (source <see cref="SourceName"/>): a failover request (its gRPC call a child, through the
/// GrpcNetClient instrumentation), and a command carried out, parented on the controller's span named in
/// <c>Command.trace_parent</c>; the acknowledgement names this span back, so the controller's side joins the trace.
/// </summary>
public static class SidecarTracing
{
    public const string SourceName = "OrleansControl.Sidecar";

    public static readonly ActivitySource Source = new(SourceName);

    public static Activity? StartFrom(string name, string traceParent, ActivityKind kind = ActivityKind.Consumer) =>
        ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
}
