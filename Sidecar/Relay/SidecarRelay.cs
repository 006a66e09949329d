using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Server;

namespace OrleansControl.Sidecar.Relay;

/// <summary>
/// Relays the local application's requests over the managed link and returns the responses. When the link brings no
/// response, the application gets the relay's own answer at once rather than silence, with a field 39 code that says
/// which outcome it was (<see cref="RelayAnswers"/>): not sent (91, 94, 30) or fate unknown (68, reversed by the
/// sidecar where configured) — never one that reads as a plain decline.
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
        catch (SidecarException error)
        {
            var (code, detail) = RelayAnswers.For(error, _options.ResponseCodes);
            var response = request.Spec.CreateMessage(request.Mti.ToResponse());
            foreach (var field in (ReadOnlySpan<int>)[3, 4, 7, 11, 37, 41, 42, 49])
            {
                if (request.TryGet(field, out var value))
                {
                    response.SetOwned(field, value);
                }
            }

            if (_options.DetailField != 0 && request.Spec[_options.DetailField] is not null)
            {
                response.Set(_options.DetailField, detail);
            }

            return response.Set(39, code);
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
