using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using Orleans.Streams;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Security;

namespace OrleansControl.Gateway.Ui;

/// <summary>
/// The web view (docs/ui.md): a static page at <c>/ui/</c> and its read-only API. <c>/ui/api/events</c> is a
/// server-sent event stream: a <c>view</c> (the whole picture) on connect and every refresh interval, and each
/// <c>status</c> change and <c>failover</c> decision as it happens; the page never polls. Reading needs the same
/// credentials as the API (a bearer token or client certificate; none on a development gateway), under the policy
/// <see cref="GatewayPolicies.RegistryViewer"/>; the page's buttons
/// call the REST API, so they are authorized like any other call and shown only to operators.
/// </summary>
internal static partial class UiEndpoints
{
    private const string ResourcePrefix = "ui/";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly Dictionary<string, string> Files = new(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["app.js"] = "text/javascript; charset=utf-8",
        ["app.css"] = "text/css; charset=utf-8",
    };

    public static IEndpointRouteBuilder MapControllerUi(this IEndpointRouteBuilder app)
    {
        // "/ui" and "/ui/" both match; the page's relative links need the slash.
        app.MapGet("/ui/{file?}", (HttpContext http, string? file) =>
            file is null && http.Request.Path.Value?.EndsWith('/') != true ? Results.Redirect("/ui/") : StaticFile(file ?? "index.html"));
        app.MapGet("/ui/api/me", (HttpContext http) => Results.Json(Me(Viewer(http), http), Json))
            .RequireAuthorization(GatewayPolicies.RegistryViewer);
        app.MapGet("/ui/api/view", async (HttpContext http, UiViewReader reader) => Results.Json(await reader.ReadAsync(http.RequestAborted), Json))
            .RequireAuthorization(GatewayPolicies.RegistryViewer);
        app.MapGet("/ui/api/events", StreamAsync).RequireAuthorization(GatewayPolicies.RegistryViewer);
        return app;
    }

    /// <summary>
    /// Orleans' dashboard at <c>/ui/dashboard</c>, for operators only (the silos must run it: Controller:Dashboard).
    /// Its own page calls its API without our bearer token, so it opens with a client certificate or on a development
    /// gateway.
    /// </summary>
    public static IEndpointRouteBuilder MapOrleansDashboardForOperators(this IEndpointRouteBuilder app)
    {
        app.MapOrleansDashboard("/ui/dashboard").RequireAuthorization(GatewayPolicies.Dashboard);
        return app;
    }

    private static object Me(Caller caller, HttpContext http) => new
    {
        dashboard = caller.IsOperator && http.RequestServices.GetRequiredService<IConfiguration>().GetValue<bool>("Controller:Dashboard"),
        subject = caller.Subject,
        roles = caller.Roles.Order(StringComparer.Ordinal).ToArray(),
        @operator = caller.IsOperator,
        development = caller.IsDevelopmentAnonymous,
    };

    private static IResult StaticFile(string file)
    {
        if (!Files.TryGetValue(file, out var contentType)) return Results.NotFound();
        var stream = typeof(UiEndpoints).Assembly.GetManifestResourceStream(ResourcePrefix + file);
        return stream is null ? Results.NotFound() : Results.Stream(stream, contentType);
    }

    /// <summary>The caller the endpoint's policy (<see cref="GatewayPolicies.RegistryViewer"/>) admitted.</summary>
    private static Caller Viewer(HttpContext http) =>
        Security.Caller.FromPrincipal(http.User) ?? throw new InvalidOperationException("the web view's endpoints require authorization");

    private static async Task StreamAsync(
        HttpContext http, UiViewReader reader, IClusterClient cluster, IOptions<UiOptions> options,
        IOptions<GatewayOptions> gateway, ILoggerFactory loggers)
    {
        var caller = Viewer(http);

        var log = loggers.CreateLogger("OrleansControl.Gateway.Ui");
        var ct = http.RequestAborted;
        // Events wait here for the writer. A page that cannot keep up is not sent a view with holes: its stream ends
        // with "overflow", and the page reconnects and starts again from a fresh view.
        var events = Channel.CreateBounded<(string Name, object Data)>(new BoundedChannelOptions(4096) { SingleReader = true });
        using var overflow = CancellationTokenSource.CreateLinkedTokenSource(ct);
        void Enqueue(string name, object data)
        {
            if (!events.Writer.TryWrite((name, data)))
            {
                overflow.Cancel();
            }
        }

        var region = gateway.Value.Region;
        var provider = cluster.GetStreamProvider(ControllerStreams.ProviderName);
        var status = await provider.GetStream<ConnectionStatusChanged>(ControllerStreams.AllStatus)
            .SubscribeAsync((e, _) => { Enqueue("status", UiViewReader.ToUi(e, region)); return Task.CompletedTask; });
        var failovers = await provider.GetStream<FailoverCommand>(ControllerStreams.AllFailoverCommands)
            .SubscribeAsync((e, _) =>
            {
                Enqueue("failover", new UiFailoverEvent(e.ConnectionId, e.ClientId, e.FromServerId, e.ToServerId, e.Reason, e.IssuedAt));
                return Task.CompletedTask;
            });
        try
        {
            http.Response.Headers.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers["X-Accel-Buffering"] = "no";
            await WriteAsync(http, "hello", Me(caller, http), ct);
            await WriteAsync(http, "view", await reader.ReadAsync(ct), ct);
            var nextView = DateTimeOffset.UtcNow + options.Value.RefreshInterval;
            while (!overflow.IsCancellationRequested)
            {
                var wait = nextView - DateTimeOffset.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(overflow.Token);
                    timeout.CancelAfter(wait);
                    try
                    {
                        while (await events.Reader.WaitToReadAsync(timeout.Token))
                        {
                            while (events.Reader.TryRead(out var e)) await WriteAsync(http, e.Name, e.Data, ct);
                        }
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        // the refresh is due (or the page overflowed: checked by the loop)
                    }
                }

                if (overflow.IsCancellationRequested) break;
                await WriteAsync(http, "view", await reader.ReadAsync(ct), ct);
                nextView = DateTimeOffset.UtcNow + options.Value.RefreshInterval;
            }

            if (!ct.IsCancellationRequested)
            {
                LogOverflow(log, caller.Subject);
                await WriteAsync(http, "overflow", new { reason = "the page fell behind the events; reload the view" }, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the page went away
        }
        finally
        {
            await status.UnsubscribeAsync();
            await failovers.UnsubscribeAsync();
        }
    }

    private static async Task WriteAsync(HttpContext http, string name, object data, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(data, data.GetType(), Json);
        await http.Response.WriteAsync($"event: {name}\ndata: {json}\n\n", ct);
        await http.Response.Body.FlushAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Web view stream of {Subject} ended: the page fell behind the events")]
    private static partial void LogOverflow(ILogger logger, string subject);
}
