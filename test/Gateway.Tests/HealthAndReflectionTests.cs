using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using OrleansControl.Gateway.Tests.Infrastructure;

namespace OrleansControl.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class HealthAndReflectionTests(GatewayFixture f)
{
    [Fact]
    public async Task Grpc_health_service_reports_serving()
    {
        var health = new Health.HealthClient(f.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Server_reflection_lists_the_contract_services()
    {
        var reflection = new ServerReflection.ServerReflectionClient(f.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Contains("orleanscontrol.v1.ControllerService", names);
        Assert.Contains("orleanscontrol.v1.SidecarService", names);
        Assert.Contains("orleanscontrol.v1.ServerPoolService", names);
        Assert.Contains("grpc.health.v1.Health", names);
    }
}
