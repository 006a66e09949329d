namespace OrleansControl.EndToEnd.Tests.Processes;

/// <summary>
/// One silo of a multi-silo controller (silo + its co-hosted gateway, <c>Silo/</c>) as its own process, on Redis
/// clustering and Redis storage, with the production membership settings (Controller:Membership defaults), so kill -9
/// gives the real death window.
/// </summary>
internal sealed class ClusterSiloProcess : IDisposable
{
    private readonly int _grpcPort = LoopbackPorts.Next();
    private readonly int _restPort = LoopbackPorts.Next();
    private readonly ChildProcess _process;

    private ClusterSiloProcess(string name, string redis, string clusterId)
    {
        Name = name;
        Rest = new ControllerRest(new Uri($"http://127.0.0.1:{_restPort}"));
        _process = ChildProcess.Start(name, BuildOutput.Silo, [], new Dictionary<string, string>
        {
            ["Controller__Clustering"] = "redis",
            ["Controller__Storage"] = "redis",
            ["Controller__Redis"] = redis,
            ["Controller__ClusterId"] = clusterId,
            ["Controller__ServiceId"] = clusterId,
            ["Controller__AdvertisedAddress"] = "127.0.0.1",
            ["Controller__SiloPort"] = LoopbackPorts.Next().ToString(),
            ["Controller__GatewayPort"] = LoopbackPorts.Next().ToString(),
            ["Controller__Health__HeartbeatInterval"] = "00:00:01",
            ["Controller__Health__MoveDeadline"] = "00:00:02",
            ["Controller__Health__NoTargetRetryMax"] = "00:00:04",
            ["Gateway__GrpcPort"] = _grpcPort.ToString(),
            ["Gateway__RestPort"] = _restPort.ToString(),
            ["Gateway__HeartbeatInterval"] = "00:00:01",
        });
    }

    public string Name { get; }

    /// <summary>Its gateway's gRPC address (what it advertises to sidecars).</summary>
    public string GrpcAddress => $"http://127.0.0.1:{_grpcPort}";

    public ControllerRest Rest { get; }

    public bool HasExited => _process.HasExited;

    public static async Task<ClusterSiloProcess> StartAsync(string name, string redis, string clusterId)
    {
        var silo = new ClusterSiloProcess(name, redis, clusterId);
        try
        {
            await Eventually.Until(async () => !silo.HasExited && await silo.Rest.IsReadyAsync(), ready => ready || silo.HasExited,
                $"{name} to be ready (/readyz)", TimeSpan.FromSeconds(60), () => silo.Tail(), TimeSpan.FromMilliseconds(100));
            Assert.False(silo.HasExited, $"{name} exited on start{Environment.NewLine}{silo.Tail()}");
            return silo;
        }
        catch
        {
            silo.Dispose();
            throw;
        }
    }

    /// <summary>kill -9.</summary>
    public void Kill() => _process.Kill();

    public bool Wrote(string text) => _process.Wrote(text);

    public string Tail(int lines = 40) => _process.Tail(lines);

    public void Dispose()
    {
        _process.Dispose();
        Rest.Dispose();
    }
}
