using Grpc.Core;
using Microsoft.Extensions.Logging;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Errors;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Services;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Sidecars;

// A command's acknowledgement reaches its connection grain and the outbox at least once, and is applied once:
// - the receipt goes to the connection grain first (it ignores a receipt of a command it no longer waits for, so a
//   second one changes nothing), then the outbox drops that command (only that one);
// - a call that fails or does not answer in time applies nothing further: the ack is rejected UNAVAILABLE naming its
//   sequence, and the sidecar sends it again; the command stays pending, so a re-attach sends it again too and the
//   sidecar answers it from what it remembers, without running it again;
// - once both took it, `applied` tells the sidecar, which only then counts it in its last acknowledged sequence.
internal sealed partial class SidecarSession
{
    private async ValueTask OnAck(CommandAck ack)
    {
        if (ack.Sequence == 0 || ack.Sequence > (ulong)_lastSent)
        {
            Reject("", StatusCode.InvalidArgument, $"command_ack.sequence: {ack.Sequence} was not sent on this stream", ack.Sequence);
            return;
        }
        if (ack.ServerAddress.Length > RequestValidation.MaxAddressLength || ack.Detail.Length > RequestValidation.MaxReasonLength)
        {
            Reject("", StatusCode.InvalidArgument, "command_ack.server_address/detail: too long", ack.Sequence);
            return;
        }
        var sequence = (long)ack.Sequence;
        if (!ack.Success) LogCommandFailed(sidecarId, ack.CommandId, ack.Sequence);
        using var span = GatewayTracing.StartFrom("command acknowledged", ack.TraceParent);
        span?.SetTag("orleanscontrol.command_id", ack.CommandId);
        span?.SetTag("orleanscontrol.success", ack.Success);
        // Not in the map: this stream already applied it (the sidecar sent it again); the outbox call below is a no-op.
        _sent.TryGetValue(sequence, out var command);
        try
        {
            if (command is { MovesLink: true } && command.CommandId == ack.CommandId)
                await CompleteAsync(command, ack);
            await _outbox.Ack(sequence).WaitAsync(CallDeadline);
        }
        catch (Exception e) when (IsRetryable(e))
        {
            var (code, text) = ErrorMappingInterceptor.Classify(e, false);
            LogAckNotApplied(sidecarId, ack.CommandId, ack.Sequence, e.GetType().Name);
            Reject(command?.ConnectionId ?? "", code, $"command_ack: #{ack.Sequence} not applied ({text}); send it again", ack.Sequence);
            return;
        }
        _sent.TryRemove(sequence, out _);
        _down.Writer.TryWrite(new ControllerMessage { Applied = new Applied { CommandAckSequence = ack.Sequence, CommandId = ack.CommandId } });
    }

    /// <summary>
    /// The receipt to the connection grain. A definitive refusal (the connection is gone, say) settles the ack: it is
    /// answered, and the outbox drops the command all the same (sending it again would change nothing).
    /// </summary>
    private async Task CompleteAsync(SidecarCommand command, CommandAck ack)
    {
        try
        {
            await cluster.GetGrain<IConnectionGrain>(command.ConnectionId).CompleteCommand(new CommandReceipt(
                ack.CommandId, ack.Success, ack.Detail, ack.ServerAddress.Length == 0 ? null : ack.ServerAddress)).WaitAsync(CallDeadline);
        }
        catch (ControlPlaneException e) when (!IsRetryable(e))
        {
            var (code, message) = ErrorMappingInterceptor.Classify(e, false);
            Reject(command.ConnectionId, code, message, ack.Sequence);
        }
    }

    /// <summary>Nothing was applied and asking again may work: a silo that cannot be reached, no answer in time, storage down.</summary>
    private static bool IsRetryable(Exception e) =>
        e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or ClientNotAvailableException
            or StorageUnavailableException or OrleansException { InnerException: StorageUnavailableException };

    [LoggerMessage(EventId = 3240, Level = LogLevel.Warning, Message = "Sidecar {SidecarId} reports command {CommandId} (#{Sequence}) failed")]
    private partial void LogCommandFailed(string sidecarId, string commandId, ulong sequence);

    [LoggerMessage(EventId = 3241, Level = LogLevel.Warning, Message = "Sidecar {SidecarId}: the ack of command {CommandId} (#{Sequence}) was not applied ({Error}); rejected for the sidecar to send again")]
    private partial void LogAckNotApplied(string sidecarId, string commandId, ulong sequence, string error);
}
