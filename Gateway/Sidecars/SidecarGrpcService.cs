using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Regions;
using OrleansControl.Gateway.Security;
using OrleansControl.Gateway.Services;

namespace OrleansControl.Gateway.Sidecars;

/// <summary>SidecarService.Attach (sidecars only): checks the register message (as itself), then runs a <see cref="SidecarSession"/>.</summary>
internal sealed partial class SidecarGrpcService(
    IClusterClient cluster,
    GatewayAuthorizer auth,
    IOptions<GatewayOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<SidecarSession> sessionLogger,
    LiveGateways gateways,
    PeerSessionRelay sessionRelay,
    ILogger<SidecarGrpcService> logger) : SidecarService.SidecarServiceBase
{
    [Authorize(Policy = GatewayPolicies.Sidecar)]
    public override async Task Attach(IAsyncStreamReader<SidecarMessage> requestStream, IServerStreamWriter<ControllerMessage> responseStream, ServerCallContext context)
    {
        var caller = GatewayAuthorizer.Caller(context);

        if (!await requestStream.MoveNext(context.CancellationToken)) return;
        if (requestStream.Current.BodyCase != SidecarMessage.BodyOneofCase.Register)
            throw Errors.GatewayErrors.InvalidArgument("register", "the first message on the stream must be register");
        var register = requestStream.Current.Register;
        var sidecarId = RequestValidation.Id(register.SidecarId, "register.sidecar_id");
        await auth.RequireAsync(context, GatewayPolicies.Self, sidecarId, $"caller '{caller.Subject}' may not attach as sidecar '{sidecarId}'");
        if (register.LastAckedSequence > long.MaxValue)
            throw Errors.GatewayErrors.InvalidArgument("register.last_acked_sequence", "is out of range");

        try
        {
            await using var session = new SidecarSession(sidecarId, cluster, auth, context, responseStream, options.Value, gateways, sessionRelay, sessionLogger);
            using var stopping = lifetime.ApplicationStopping.Register(session.StopForShutdown);
            try
            {
                await session.RunAsync((long)register.LastAckedSequence, requestStream);
            }
            catch (Exception e) when (context.CancellationToken.IsCancellationRequested && e is IOException or OperationCanceledException)
            {
                // The sidecar went away (crash, network): an ordinary end of a stream, not a gateway error.
                LogDisconnected(logger, sidecarId);
            }
        }
        catch (Exception e) when (lifetime.ApplicationStopping.IsCancellationRequested
            && e is not RpcException { StatusCode: StatusCode.Unavailable })
        {
            // The host is stopping (the attach itself may have met the stopping silo, or the session's disposal did): the
            // sidecar goes elsewhere.
            throw new RpcException(new Status(StatusCode.Unavailable, "the controller is stopping: attach to another gateway"));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sidecar {SidecarId} disconnected")]
    private static partial void LogDisconnected(ILogger logger, string sidecarId);
}
