using System.Diagnostics;
using System.Net;
using System.Text.Json;
using OrleansControl.EndToEnd.Tests.Processes;
using OrleansControl.Grains.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// Two controllers (silo + gateway each, their own processes) on Redis clustering and storage, the Redis without
/// persistence, restarted: every key is gone. Issue 15's recipe for a split brain follows: one silo killed and started
/// again forms a new table of its own. The other must notice (not ready while its view and the table disagree), leave
/// with exit code 75, and, started again as Kubernetes would, join the one cluster the table now holds.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class RedisLossTests(ITestOutputHelper output)
{
    private const int MembershipLostExitCode = 75; // Silo/Membership/MembershipTableWatch.ExitCode, docs/redis-registry.md

    [Fact]
    public async Task Redis_restarted_empty_splits_nothing_the_old_silo_leaves_with_75_and_rejoins_the_one_cluster()
    {
        await using var redis = await RedisServer.StartAsync(persistent: false);
        var settings = new Dictionary<string, string>
        {
            ["Controller__Clustering"] = "redis",
            ["Controller__Storage"] = "redis",
            ["Controller__Redis"] = redis.ConnectionString,
            ["Controller__AdvertisedAddress"] = "127.0.0.1",
            ["Controller__ClusterId"] = "e2e-redis-loss",
            ["Controller__MembershipWatch__CheckInterval"] = "00:00:00.500",
            ["Controller__MembershipWatch__ExitAfter"] = "00:00:06",
            ["Controller__MembershipWatch__StopGrace"] = "00:00:05",
        };
        using var a = await ControllerProcess.StartAsync(TimeSpan.FromSeconds(2), settings, "silo-a");
        using var b = await ControllerProcess.StartAsync(TimeSpan.FromSeconds(2), settings, "silo-b");
        string Diagnostics() => $"{a.Tail()}{Environment.NewLine}{b.Tail()}";
        var clock = Stopwatch.StartNew();
        void Log(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {what}");

        await a.Rest.AddServerAsync("scheme", "srv-a", "127.0.0.1:20001", "zone-a");
        await a.Rest.RegisterAsync("conn-before", "bank-a", "scheme", null);
        await AssertOneClusterAsync(a, b, "conn-before", Diagnostics);
        Log($"two silos, one cluster: {await MembersAsync(redis)}");

        await redis.RestartEmptyAsync();
        Log("Redis restarted empty");
        var statuses = new List<HttpStatusCode>();
        using var stopRegistering = new CancellationTokenSource();
        var registering = RegisterUntilAsync(b.Rest, statuses, stopRegistering.Token);

        // Both silos see the table gone and stop claiming readiness while they still run.
        await Eventually.Until(async () => (await a.Rest.IsReadyAsync(), await b.Rest.IsReadyAsync(), a.Process.HasExited || b.Process.HasExited),
            s => !s.Item1 && !s.Item2 && !s.Item3, "both silos alive and not ready", TimeSpan.FromSeconds(5), Diagnostics, TimeSpan.FromMilliseconds(100));
        Log("both silos alive and not ready (/readyz 503)");

        // The split-brain recipe: one silo killed and started again creates a new table with itself alone.
        a.Kill();
        await a.StartAgainAsync();
        Log($"silo-a killed and started again: {await MembersAsync(redis)}");

        // The old silo, not ready since the loss (and, if still running, without a row in the new table), leaves with 75.
        if (!b.Process.HasExited)
            Assert.False(await IsReadyOrGoneAsync(b.Rest));
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            await b.Process.WaitForExitAsync(exit.Token);
        Log($"silo-b exited with {b.Process.ExitCode}");
        Assert.Equal(MembershipLostExitCode, b.Process.ExitCode);
        Assert.True(b.Process.Wrote("Membership lost, silo"), b.Tail());
        await stopRegistering.CancelAsync();
        await registering;

        await b.StartAgainAsync();
        Log($"silo-b started again: {await MembersAsync(redis)}");
        var members = await MembersAsync(redis);
        Assert.Equal(2, members.Active);
        await a.Rest.AddServerAsync("scheme", "srv-a", "127.0.0.1:20001", "zone-a");
        await a.Rest.RegisterAsync("conn-after", "bank-a", "scheme", null);
        await AssertOneClusterAsync(a, b, "conn-after", Diagnostics);
        Log("conn-after: one activation, reached through both gateways");

        output.WriteLine($"registrations through silo-b meanwhile: {string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{(int)g.Key} x{g.Count()}"))}");
        Assert.DoesNotContain(HttpStatusCode.InternalServerError, statuses);
    }

    private static async Task<bool> IsReadyOrGoneAsync(ControllerRest rest)
    {
        try { return await rest.IsReadyAsync(); }
        catch (HttpRequestException) { return false; } // it left in the meantime
    }

    /// <summary>One cluster: both gateways reach the same single activation of the connection's grain.</summary>
    private static async Task AssertOneClusterAsync(ControllerProcess a, ControllerProcess b, string connectionId, Func<string> diagnostics)
    {
        var viaA = await a.Rest.GetConnectionAsync(connectionId);
        var viaB = await Eventually.Until(() => b.Rest.GetConnectionAsync(connectionId), e => e is not null, $"{connectionId} through silo-b",
            diagnostics: diagnostics);
        Assert.NotNull(viaA?.HostSilo);
        Assert.Equal((viaA!.HostSilo, viaA.Version), (viaB!.HostSilo, viaB.Version));
    }

    /// <summary>Registrations through one gateway every 300 ms, their HTTP statuses recorded (the process may be gone).</summary>
    private static async Task RegisterUntilAsync(ControllerRest rest, List<HttpStatusCode> statuses, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            try
            {
                await rest.RegisterAsync($"conn-during-{i}", "bank-b", "scheme", null);
                statuses.Add(HttpStatusCode.OK);
            }
            catch (HttpRequestException e) when (e.StatusCode is { } code)
            {
                statuses.Add(code);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                // not answering (leaving, gone): no status to judge
            }
            try { await Task.Delay(300, stop); }
            catch (OperationCanceledException) { }
        }
    }

    /// <summary>The membership table as Redis holds it: how many rows, how many Active.</summary>
    private static async Task<(int Rows, int Active)> MembersAsync(RedisServer redis)
    {
        var key = (await redis.CliAsync("--scan", "--pattern", "*/members/*")).Trim();
        if (key.Length == 0) return (0, 0);
        var lines = (await redis.CliAsync("HGETALL", key)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var rows = lines.Where(l => l.TrimStart().StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var active = rows.Count(r => r.TryGetProperty("Status", out var s) && (s.ValueKind == JsonValueKind.String ? s.GetString() == "Active" : s.GetInt32() == 3));
        return (rows.Count, active);
    }
}
