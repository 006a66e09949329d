using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Hosting;

/// <summary>
/// Kubelet probes on their own port (<c>Sidecar:Probes:Url</c>, e.g. http://0.0.0.0:8082): the control endpoints stay
/// on localhost, and on the probe port nothing but <c>/healthz</c> (the process runs), <c>/readyz</c> (the ISO link
/// is signed on) and <c>/metrics</c> (Prometheus, also on the control endpoint) is served. The check is on the local
/// port the connection arrived at, not on the Host header, which a caller chooses.
/// </summary>
public static class SidecarProbeEndpoints
{
    public static WebApplication MapSidecarProbes(this WebApplication app, int probePort)
    {
        app.Use((context, next) =>
        {
            var probe = context.Connection.LocalPort == probePort;
            var probePath = context.Request.Path == "/healthz" || context.Request.Path == "/readyz";
            var metrics = context.Request.Path == "/metrics";
            if (probe != probePath && !metrics)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(context);
        });
        app.MapGet("/healthz", () => Results.Text("alive"));
        app.MapGet("/readyz", (IsoClient link) => link.State is ConnectionState.SignedOn or ConnectionState.Degraded
            ? Results.Text(link.State.ToString())
            : Results.Text(link.State.ToString(), statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }
}
