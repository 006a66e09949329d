using Grpc.Core;
using Grpc.Net.Client;
using OrleansControl.Contract.V1;

namespace OrleansControl.Occtl.Tests.Infrastructure;

/// <summary>
/// A sidecar on the Attach stream that carries out every command at once: signed on at the target of a CONNECT
/// or a move. It says so as a real sidecar does, in the acknowledgement (which completes a move) and in a heartbeat
/// with link_state SIGNED_ON (the controller's evidence for ACTIVE after a CONNECT).
/// </summary>
internal sealed class FakeSidecar : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<SidecarMessage, ControllerMessage> _call;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly Dictionary<string, string> _signedOnAt = new(StringComparer.Ordinal);
    private Task _loop = Task.CompletedTask;

    private FakeSidecar(AsyncDuplexStreamingCall<SidecarMessage, ControllerMessage> call) => _call = call;

    public static string Id(int n) => $"sidecar-{n}";

    public static async Task<FakeSidecar> AttachAsync(GrpcChannel channel, int n)
    {
        var client = new SidecarService.SidecarServiceClient(channel);
        var sidecar = new FakeSidecar(client.Attach(new Metadata { { "authorization", "Bearer " + ControllerHost.SidecarToken(n) } }));
        await sidecar._call.RequestStream.WriteAsync(new SidecarMessage { Register = new SidecarRegister { SidecarId = Id(n), Region = "local" } });
        if (!await sidecar._call.ResponseStream.MoveNext(CancellationToken.None) || sidecar._call.ResponseStream.Current.BodyCase != ControllerMessage.BodyOneofCase.Attached)
        {
            throw new InvalidOperationException("the gateway did not answer the register with attached");
        }
        sidecar._loop = Task.Run(sidecar.CarryOutCommandsAsync);
        return sidecar;
    }

    private async Task CarryOutCommandsAsync()
    {
        try
        {
            while (await _call.ResponseStream.MoveNext(_stop.Token))
            {
                if (_call.ResponseStream.Current.Command is not { } command) continue;
                string address;
                lock (_signedOnAt)
                {
                    if (command.Kind is CommandKind.Connect or CommandKind.ReconnectElsewhere) _signedOnAt[command.ConnectionId] = command.TargetServerAddress;
                    address = _signedOnAt.GetValueOrDefault(command.ConnectionId) ?? "";
                }
                await _send.WaitAsync();
                try
                {
                    await _call.RequestStream.WriteAsync(new SidecarMessage
                    {
                        CommandAck = new CommandAck { CommandId = command.CommandId, Sequence = command.Sequence, Success = true, ServerAddress = address },
                    });
                    if (command.Kind is CommandKind.Connect or CommandKind.ReconnectElsewhere)
                    {
                        await _call.RequestStream.WriteAsync(new SidecarMessage
                        {
                            Heartbeat = new Heartbeat
                            {
                                ConnectionId = command.ConnectionId,
                                EchoRttMs = 5,
                                LinkState = LinkState.SignedOn,
                                ServerAddress = address,
                                SentAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
                            },
                        });
                    }
                }
                finally
                {
                    _send.Release();
                }
            }
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // Stopped by the test, or the gateway went away.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _call.Dispose();
        await _loop;
    }
}
