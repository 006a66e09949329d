using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansControl.Contract.V1;

namespace OrleansControl.Sidecar.Tests.Support;

/// <summary>
/// A stand-in for the gateway's SidecarService and ControllerService on a real Kestrel port (h2c):
/// records what the sidecar sends and pushes the commands a test gives it.
/// </summary>
internal sealed class FakeController : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeController(WebApplication app, State state)
    {
        _app = app;
        Shared = state;
    }

    public State Shared { get; }

    public string Address => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>On h2c, or on TLS with <paramref name="certificate"/> (then <see cref="Address"/> is https).</summary>
    /// <param name="clientCa">With <paramref name="certificate"/>: mutual TLS, a client certificate issued by it required.</param>
    public static async Task<FakeController> StartAsync(int port = 0, string? assign = null, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null,
        System.Security.Cryptography.X509Certificates.X509Certificate2? clientCa = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            if (certificate is not null && clientCa is not null)
            {
                l.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate,
                    ClientCertificateValidation = (client, _, _) =>
                    {
                        using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                        chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                        chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                        chain.ChainPolicy.CustomTrustStore.Add(clientCa);
                        return chain.Build(client);
                    },
                });
            }
            else if (certificate is not null)
            {
                l.UseHttps(certificate);
            }
        }));
        builder.Services.AddGrpc();
        var state = new State { Assign = assign };
        builder.Services.AddSingleton(state);
        var app = builder.Build();
        app.MapGrpcService<SidecarEndpoint>();
        app.MapGrpcService<ControllerEndpoint>();
        await app.StartAsync();
        return new FakeController(app, state);
    }

    public async ValueTask DisposeAsync()
    {
        Shared.Commands.Writer.TryComplete();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    internal sealed class State
    {
        public string? Assign { get; set; }

        public ConcurrentQueue<SidecarMessage> Received { get; } = new();

        public ConcurrentQueue<RegisterConnectionRequest> Registrations { get; } = new();

        public Channel<Command> Commands { get; } = Channel.CreateUnbounded<Command>();

        public int Attaches;

        /// <summary>The next message this matches is taken off the stream and dropped, and the stream ends (a dying gateway).</summary>
        public Func<SidecarMessage, bool>? LoseAndEndStream { get; set; }

        public ConcurrentQueue<SidecarMessage> Lost { get; } = new();

        private CancellationTokenSource _streams = new();

        /// <summary>Sent as Attached.outbox_incarnation; a "restarted" controller sets a new one.</summary>
        public string Incarnation { get; set; } = "";

        /// <summary>Attached.resumed_after; null: the sidecar's own last_acked_sequence (a controller that remembers).</summary>
        public ulong? ResumedAfter { get; set; }

        /// <summary>Whether a command_ack is answered with Applied (as the gateway does once the grains took it).</summary>
        public bool ApplyAcks { get; set; } = true;

        /// <summary>Whether a state report with moved_from is answered with Applied (as the gateway does once its grain took it).</summary>
        public bool ApplyOwnMoves { get; set; } = true;

        /// <summary>The next ack this matches is refused UNAVAILABLE (naming its sequence) instead of applied.</summary>
        public Func<CommandAck, bool>? RefuseAck { get; set; }

        /// <summary>How ControllerService.RequestFailover answers (it never moves anything here).</summary>
        public Status? FailoverRefusal { get; set; }

        public CancellationToken StreamsEnd => _streams.Token;

        public IEnumerable<SidecarRegister> Registers => Received.Where(m => m.BodyCase == SidecarMessage.BodyOneofCase.Register).Select(m => m.Register);

        /// <summary>Ends the open Attach streams (as a controller restart or a lost stream would); the sidecar attaches again.</summary>
        public void EndStreams() => Interlocked.Exchange(ref _streams, new CancellationTokenSource()).Cancel();

        public IEnumerable<Heartbeat> Heartbeats => Received.Where(m => m.BodyCase == SidecarMessage.BodyOneofCase.Heartbeat).Select(m => m.Heartbeat);

        public IEnumerable<CommandAck> Acks => Received.Where(m => m.BodyCase == SidecarMessage.BodyOneofCase.CommandAck).Select(m => m.CommandAck);

        public IEnumerable<StateReport> States => Received.Where(m => m.BodyCase == SidecarMessage.BodyOneofCase.StateReport).Select(m => m.StateReport);
    }

    private sealed class SidecarEndpoint(State state) : SidecarService.SidecarServiceBase
    {
        public override async Task Attach(IAsyncStreamReader<SidecarMessage> requestStream, IServerStreamWriter<ControllerMessage> responseStream, ServerCallContext context)
        {
            if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.BodyCase != SidecarMessage.BodyOneofCase.Register)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "first message must be register"));
            }

            var register = requestStream.Current.Register;
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, state.StreamsEnd);
            var writing = new SemaphoreSlim(1, 1); // one write at a time: commands, and Applied from the reader
            async Task WriteAsync(ControllerMessage m)
            {
                await writing.WaitAsync();
                try
                {
                    await responseStream.WriteAsync(m);
                }
                finally
                {
                    writing.Release();
                }
            }

            state.Received.Enqueue(requestStream.Current);
            await WriteAsync(new ControllerMessage
            {
                Attached = new Attached
                {
                    SidecarId = register.SidecarId,
                    HeartbeatIntervalMs = 200,
                    ResumedAfter = state.ResumedAfter ?? register.LastAckedSequence,
                    OutboxIncarnation = state.Incarnation,
                },
            });
            Interlocked.Increment(ref state.Attaches);

            var reading = Task.Run(async () =>
            {
                while (await requestStream.MoveNext(ended.Token))
                {
                    if (state.LoseAndEndStream is { } lose && lose(requestStream.Current))
                    {
                        // Accepted on the stream, then the gateway died before acting on it: lost, and the stream ends.
                        state.LoseAndEndStream = null;
                        state.Lost.Enqueue(requestStream.Current);
                        state.EndStreams();
                        break;
                    }

                    var received = requestStream.Current;
                    state.Received.Enqueue(received);
                    // As the gateway does once the grains took it (unless the test holds it back).
                    if (received.CommandAck is { } refused && state.RefuseAck is { } refuse && refuse(refused))
                    {
                        // As the gateway answers an ack whose grain call failed: nothing applied, send it again.
                        state.RefuseAck = null;
                        await WriteAsync(new ControllerMessage
                        {
                            Rejected = new Rejected { ConnectionId = "", Code = "UNAVAILABLE", Message = "command_ack: not applied (test); send it again", CommandAckSequence = refused.Sequence },
                        });
                    }
                    else if (received.CommandAck is { } ack && state.ApplyAcks)
                    {
                        await WriteAsync(new ControllerMessage { Applied = new Applied { CommandAckSequence = ack.Sequence, CommandId = ack.CommandId } });
                    }
                    else if (received.StateReport is { MovedFrom.Length: > 0 } report && state.ApplyOwnMoves)
                    {
                        await WriteAsync(new ControllerMessage { Applied = new Applied { MovedFrom = report.MovedFrom } });
                    }
                }
            });

            try
            {
                await foreach (var command in state.Commands.Reader.ReadAllAsync(ended.Token))
                {
                    await WriteAsync(new ControllerMessage { Command = command });
                }
            }
            catch (OperationCanceledException)
            {
            }

            if (!ended.IsCancellationRequested)
            {
                await Task.WhenAny(reading);
            }
        }
    }

    private sealed class ControllerEndpoint(State state) : ControllerService.ControllerServiceBase
    {
        public override Task<RegisterConnectionResponse> RegisterConnection(RegisterConnectionRequest request, ServerCallContext context)
        {
            state.Registrations.Enqueue(request);
            return Task.FromResult(new RegisterConnectionResponse
            {
                Connection = new Connection
                {
                    ConnectionId = request.ConnectionId,
                    ClientId = request.ClientId,
                    ServerPool = request.ServerPool,
                    ServerAddress = state.Assign ?? "",
                    Status = ConnectionStatus.Requested,
                    Version = 1,
                },
            });
        }

        public override Task<RequestFailoverResponse> RequestFailover(RequestFailoverRequest request, ServerCallContext context) =>
            throw new RpcException(state.FailoverRefusal ?? new Status(StatusCode.Unimplemented, "no failover in this fake"));
    }
}
