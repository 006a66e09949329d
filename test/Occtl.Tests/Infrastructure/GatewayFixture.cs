namespace OrleansControl.Occtl.Tests.Infrastructure;

/// <summary>One controller for the collection; each test uses its own pools and ids.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public ControllerHost Host { get; private set; } = null!;

    internal Registry Registry { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await ControllerHost.StartAsync();
        Registry = new Registry(Host.Channel());
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "a gateway on a loopback port";
}
