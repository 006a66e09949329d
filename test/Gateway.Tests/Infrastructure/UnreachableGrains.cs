using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Contract.V1;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>
/// An outgoing grain call filter on the gateway's silo that fails chosen grain calls as Orleans fails a call to a silo
/// that cannot be reached (<see cref="SiloUnavailableException"/>): the next matching call only
/// (<see cref="FailOnce{TGrain}"/>), or every one until <see cref="Clear"/> (<see cref="FailAlways{TGrain}"/>).
/// </summary>
internal sealed class UnreachableGrains : IOutgoingGrainCallFilter
{
    private Rule? _once;
    private volatile Rule? _always;
    private int _failed;

    /// <summary>How many calls were failed.</summary>
    public int Failed => Volatile.Read(ref _failed);

    public void FailOnce<TGrain>(string method, string key) => Volatile.Write(ref _once, new Rule(typeof(TGrain), key, [method]));

    public void FailAlways<TGrain>(string key, params string[] methods) => _always = new Rule(typeof(TGrain), key, methods);

    public void Clear() => _always = null;

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        var once = Volatile.Read(ref _once);
        var rule = once is not null && once.Matches(context) && Interlocked.CompareExchange(ref _once, null, once) == once ? once
            : _always is { } always && always.Matches(context) ? always : null;
        if (rule is null)
            return context.Invoke();
        Interlocked.Increment(ref _failed);
        throw new SiloUnavailableException($"test: the silo of {rule.Grain.Name} {rule.Key} cannot be reached");
    }

    private sealed record Rule(Type Grain, string Key, string[] Methods)
    {
        public bool Matches(IOutgoingGrainCallContext context) =>
            context.InterfaceMethod?.DeclaringType == Grain && Methods.Contains(context.InterfaceMethod.Name) && context.TargetId.Key.ToString() == Key;
    }
}

/// <summary>A gateway with its co-hosted silo whose grain calls <see cref="Unreachable"/> can fail, one per test.</summary>
public abstract class UnreachableGrainsTests : IAsyncLifetime
{
    private GatewayHost? _host;
    private GrpcChannel? _channel;

    internal UnreachableGrains Unreachable { get; } = new();

    internal GatewayHost Host => _host!;

    protected GrpcChannel Channel => _channel!;

    private protected ControllerService.ControllerServiceClient Controller => new(Channel);

    private protected SidecarService.SidecarServiceClient Sidecars => new(Channel);

    protected IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();

    public async Task InitializeAsync()
    {
        _host = await GatewayHost.StartAsync(services: s => s.AddSingleton<IOutgoingGrainCallFilter>(Unreachable));
        _channel = GrpcChannel.ForAddress(_host.GrpcAddress);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_host is not null) await _host.DisposeAsync();
    }
}
