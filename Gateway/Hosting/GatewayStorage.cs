namespace OrleansControl.Gateway.Hosting;

/// <summary>
/// The grain storage provider the gateway's own grains (sidecar outboxes, peer replicas) persist in: the silo's
/// controller storage (memory or Redis), registered by the silo under this name (Grains' ControllerStorage.Name).
/// </summary>
internal static class GatewayStorage
{
    public const string Name = "controller";
}
