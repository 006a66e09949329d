using System.Collections.Immutable;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Gateway.Hosting;
using OrleansControl.GrainInterfaces;

namespace OrleansControl.Gateway.Sidecars;

/// <summary>
/// This gateway's view of every live gateway of the cluster, for its sidecars (Attached.gateways, then GatewayList on
/// every change). Once a second it registers its own sidecar-facing address, with the silo it is co-hosted on, in the
/// <see cref="IGatewayDirectoryGrain"/> and gets back the live list (the directory filters by Orleans membership). A
/// directory that does not answer in time (its silo dying) leaves the last list in place.
/// </summary>
public sealed partial class LiveGateways(
    IClusterClient cluster,
    IOptions<GatewayOptions> options,
    IServer server,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ILogger<LiveGateways> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private ImmutableArray<string> _current = [];

    /// <summary>The live gateways' addresses as last learned (empty until the first answer, or when not advertising).</summary>
    public ImmutableArray<string> Current => _current;

    /// <summary>Raised with the new list when it changes.</summary>
    public event Action<ImmutableArray<string>>? Changed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStarted.IsCancellationRequested)
        {
        }
        if (stoppingToken.IsCancellationRequested) return;
        if (OwnAddress() is not { } address)
        {
            LogNotAdvertising();
            return;
        }
        var silo = (services.GetService(typeof(IGatewayHostSilo)) as IGatewayHostSilo)?.SiloAddress;
        var registration = new GatewayRegistration(_instance, address, silo);
        var directory = cluster.GetGrain<IGatewayDirectoryGrain>(0);
        LogAdvertising(address, silo ?? "(stand-alone)");
        using var timer = new PeriodicTimer(Period);
        do
        {
            try
            {
                var live = await directory.Register(registration).WaitAsync(Period * 2, stoppingToken);
                if (!live.SequenceEqual(_current))
                {
                    _current = live;
                    LogChanged(string.Join(", ", live));
                    Changed?.Invoke(live);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogDirectoryLate(ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Gateway:AdvertisedAddress, else the gRPC endpoint Kestrel bound when it is a specific address (loopback, a pod
    /// IP); nothing for a wildcard bind without an advertised address (sidecars could not dial "0.0.0.0").
    /// </summary>
    private string? OwnAddress()
    {
        var o = options.Value;
        if (!string.IsNullOrWhiteSpace(o.AdvertisedAddress))
            return o.AdvertisedAddress.TrimEnd('/');
        if (!o.ConfigureKestrel || o.BindAddress is "0.0.0.0" or "::" or "*")
            return null;
        var port = o.GrpcPort;
        if (port == 0)
        {
            // A free port was picked: the first bound address is the gRPC one (ConfigureEndpoints binds it first).
            var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            return bound?.TrimEnd('/');
        }
        var host = o.BindAddress == "localhost" ? "127.0.0.1" : o.BindAddress.Contains(':') ? $"[{o.BindAddress}]" : o.BindAddress;
        return $"{(o.TlsEnabled ? "https" : "http")}://{host}:{port}";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway advertises {Address} to sidecars (silo {Silo})")]
    private partial void LogAdvertising(string address, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway does not advertise itself to sidecars: set Gateway:AdvertisedAddress (it binds a wildcard address or leaves endpoints to the host)")]
    private partial void LogNotAdvertising();

    [LoggerMessage(Level = LogLevel.Information, Message = "Live gateways: {Gateways}")]
    private partial void LogChanged(string gateways);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Gateway directory did not answer in time ({Kind}); keeping the last list")]
    private partial void LogDirectoryLate(string kind);
}
