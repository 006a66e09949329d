using System.Net;
using OrleansControl.EndToEnd.Tests.Processes;
using OrleansControl.Grains.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>What the controller listens on, read from the kernel's socket tables for its process.</summary>
[Collection(RealProcessesCollection.Name)]
public sealed class BindingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_default_controller_listens_on_loopback_only()
    {
        // The default configuration but the ports (free ones, not 11111/30000/9090/8080).
        using var controller = await ControllerProcess.StartAsync(TimeSpan.FromSeconds(2));
        var listening = ListeningSockets.Of(controller.Pid);
        output.WriteLine(string.Join(", ", listening));

        Assert.Equal(controller.Ports.Order(), listening.Select(e => e.Port).Distinct().Order()); // every port of ours, and only those
        Assert.All(listening, e => Assert.True(IPAddress.IsLoopback(e.Address), $"{e} is not loopback"));
    }
}
