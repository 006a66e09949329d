using System.Diagnostics;
using System.Text.Json;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>The contract is usable beyond .NET: Debian's python3-grpcio runs test/python/client_check.py against this gateway.</summary>
[Collection(GatewayCollection.Name)]
public sealed class PythonClientTests(GatewayFixture f)
{
    [Fact]
    public async Task Python_grpcio_client_registers_and_lists_a_connection()
    {
        var pool = await f.CreatePoolAsync();
        var client = $"py-{Guid.NewGuid():N}"[..20];
        var script = Path.Combine(RepoRoot(), "test", "python", "client_check.py");
        var python = Environment.GetEnvironmentVariable("ORLEANSCONTROL_PYTHON") is { Length: > 0 } p ? p
            : File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

        var start = new ProcessStartInfo(python)
        {
            ArgumentList = { script, "--target", $"localhost:{f.Host.GrpcAddress.Port}", "--pool", pool, "--client-id", client },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["GATEWAY_TOKEN"] = GatewayHost.OperatorToken; // not on the command line
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, $"client_check.py exited {process.ExitCode}\n{await stdout}\n{await stderr}");
        var result = JsonDocument.Parse((await stdout).Trim().Split('\n')[^1]).RootElement;
        var id = result.GetProperty("connection_id").GetString()!;

        // What Python registered is really in the registry.
        var seen = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = id }, Operator);
        Assert.Equal(client, seen.ClientId);
        Assert.Equal("python", seen.Metadata["source"]);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OrleansControl.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
