using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>A controller that is stopped (SIGTERM, a rolling update) lets its sidecars go at once.</summary>
public sealed class GracefulStopTests
{
    [Fact]
    public async Task Stopping_the_controller_ends_sidecar_streams_at_once_with_unavailable()
    {
        var host = await GatewayHost.StartAsync();
        using var channel = GrpcChannel.ForAddress(host.GrpcAddress);
        var (stream, _) = await SidecarStream.AttachAsync(new SidecarService.SidecarServiceClient(channel), Sidecar(1), "sidecar-1");
        await using var _ = stream;

        var stopping = Stopwatch.StartNew();
        var stop = host.DisposeAsync().AsTask();
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.NextAsync(TimeSpan.FromSeconds(20)) is not null)
            {
                // backups and the like: the stream is still up
            }
            throw new TimeoutException("the stream stayed open for 20 s after the stop began");
        });
        await stop;

        // UNAVAILABLE "attach to another gateway" as a rule. Kestrel's own stop can close the HTTP/2 connection (GOAWAY,
        // NO_ERROR) before that answer's trailers are written; the client then reports INTERNAL "the HTTP/2 server closed
        // the connection" (seen in 3 of 11 clean-clone runs; open, in the issue note). The sidecar moves on either way.
        var closedFirst = ended.StatusCode == StatusCode.Internal && ended.Status.Detail.Contains("HTTP/2 server closed the connection", StringComparison.Ordinal);
        Assert.True(ended.StatusCode == StatusCode.Unavailable || closedFirst, $"ended {ended.StatusCode}: {ended.Status.Detail}");
        if (!closedFirst)
            Assert.Contains("attach to another gateway", ended.Status.Detail);
        // Before: the host waited for the open stream until its shutdown timeout (5-30 s).
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(4), $"the stop took {stopping.Elapsed.TotalSeconds:F1} s");
    }
}
