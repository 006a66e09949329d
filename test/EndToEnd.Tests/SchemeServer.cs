using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Server;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>A scheme-side ISO 8583 server on a loopback port that approves 0200s and signs its answers (field 44).</summary>
internal sealed class SchemeServer : IAsyncDisposable
{
    private readonly IsoServer _server;

    public SchemeServer(string serverId)
    {
        ServerId = serverId;
        _server = new IsoServer(new IsoServerOptions { Name = serverId, Listen = "127.0.0.1:0" }, new DelegateInboundHandler(Answer));
        _server.Start();
    }

    public string ServerId { get; }

    public string Address => $"127.0.0.1:{_server.Endpoint!.Port}";

    public int Sessions => _server.Sessions.Count;

    private ValueTask<IsoMessage?> Answer(IsoPeer peer, IsoMessage request, CancellationToken ct)
    {
        var response = request.Spec.CreateMessage(request.Mti.ToResponse());
        foreach (var field in new[] { 3, 4, 11, 41 })
        {
            if (request.GetString(field) is { } value)
            {
                response.Set(field, value);
            }
        }

        response.Set(39, "00").Set(44, ServerId);
        return ValueTask.FromResult<IsoMessage?>(response);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
