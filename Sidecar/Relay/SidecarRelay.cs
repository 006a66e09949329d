using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Server;

namespace OrleansControl.Sidecar.Relay;

/// <summary>
/// Relays the local application's requests over the managed link and returns the responses. When the link
/// cannot deliver (timeout, lost, draining, stopped), the application gets a response with
/// <see cref="RelayOptions.UnavailableResponseCode"/> at once rather than silence.
/// </summary>
public sealed class SidecarRelay(IsoClient link, IOptions<RelayOptions> options, IOptions<IsoClientOptions> linkOptions, ILoggerFactory loggers)
    : IHostedService, IInboundHandler, IAsyncDisposable
{
    private readonly RelayOptions _options = options.Value;
    private IsoServer? _server;

    public System.Net.IPEndPoint? Endpoint => _server?.Endpoint;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled)
        {
            _server = new IsoServer(_options.ToServerOptions(linkOptions.Value), this, loggers.CreateLogger<IsoServer>());
            _server.Start();
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask<IsoMessage?> OnRequestAsync(IsoPeer peer, IsoMessage request, CancellationToken ct)
    {
        try
        {
            return await link.SendAsync(request, ct: ct).ConfigureAwait(false);
        }
        catch (SidecarException)
        {
            var response = request.Spec.CreateMessage(request.Mti.ToResponse());
            foreach (var field in (ReadOnlySpan<int>)[3, 4, 7, 11, 37, 41, 42, 49])
            {
                if (request.TryGet(field, out var value))
                {
                    response.SetOwned(field, value);
                }
            }

            return response.Set(39, _options.UnavailableResponseCode);
        }
    }

    public void OnUnmatchedResponse(IsoPeer peer, IsoMessage response)
    {
    }

    public async ValueTask DisposeAsync()
    {
        var server = Interlocked.Exchange(ref _server, null);
        if (server is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
