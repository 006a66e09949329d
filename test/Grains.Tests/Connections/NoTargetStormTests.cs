using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;
using OrleansControl.Grains.Telemetry;
using OrleansControl.Silo.Extensions;
using Xunit.Abstractions;

namespace OrleansControl.Grains.Tests.Connections;

/// <summary>
/// 2,000 broken connections in a pool with no other server: they must wait quietly (backoff, one log line each on
/// entering), not retry every tick with a log line each time as the first round did (47 MB of log in 13 minutes).
/// In-memory storage and the production defaults for the no-target backoff (1 s doubling to 60 s).
/// </summary>
public sealed class NoTargetStormTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Connections = 2000;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(20);
    private static readonly LogCounter Logs = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddControllerProviders(new ControllerSiloOptions(), new OrleansControl.Grains.Connections.ConnectionHealthOptions
            {
                HeartbeatInterval = TimeSpan.FromSeconds(10),
                BackstopPeriod = TimeSpan.FromMinutes(5),
            });
            silo.Services.AddSingleton<ILoggerProvider>(Logs);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Two_thousand_connections_without_a_target_stay_quiet()
    {
        var grains = _cluster.Client;
        var poolId = Scenario.NewId("pool");
        await grains.GetGrain<IServerPoolGrain>(poolId).AddOrUpdateServer(new ServerDefinition("only", "only:1", "a", Connections));
        var connections = Enumerable.Range(0, Connections).Select(i => grains.GetGrain<IConnectionGrain>($"storm-{i:D4}")).ToArray();
        foreach (var batch in connections.Chunk(100))
        {
            await Task.WhenAll(batch.Select(async c =>
            {
                await c.Register(new ConnectionRegistration($"client-{c.GetPrimaryKeyString()}", poolId, SidecarId: "sidecar"));
                await c.RecordHeartbeat(Scenario.SignedOnAt("only:1"));
                await c.ReportFailure(new FailureReport("connection refused", "only"));
            }));
        }

        using var retries = new RetryCounter();
        var logsBefore = Logs.Count;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        await Task.Delay(Window);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var logs = Logs.Count - logsBefore;

        var cores = Environment.ProcessorCount;
        output.WriteLine($"{Connections} connections without a target for {Window.TotalSeconds} s: {retries.Count} retries, {logs} log lines " +
            $"(Information or above), CPU {cpu.TotalMilliseconds:F0} ms = {100 * cpu / (Window * cores):F2} % of {cores} cores");
        // Backoff 1, 2, 4, 8 s (±20 %) fits at most 5 retries into 20 s; every tick (the old 5 s timer) or every
        // second would be 4× to 20× that. Nothing is logged while waiting.
        Assert.InRange(retries.Count, Connections, Connections * 5);
        Assert.True(logs <= 10, $"{logs} log lines while waiting");
        var states = await Task.WhenAll(connections.Take(50).Select(c => c.GetState()));
        Assert.All(states, s => Assert.Equal(ConnectionStatus.Failed, s.Status));
        Assert.All(states, s => Assert.StartsWith("no failover target", s.StatusDetail, StringComparison.Ordinal));
    }

    private sealed class RetryCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public RetryCounter()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ControllerMetrics.MeterName && instrument.Name == "orleanscontrol.failover.no_target_retries")
                    l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>Counts the log lines at Information or above written by the grains.</summary>
    private sealed class LogCounter : ILoggerProvider
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public ILogger CreateLogger(string categoryName) => new Counter(this, categoryName.StartsWith("OrleansControl", StringComparison.Ordinal));

        public void Dispose() { }

        private sealed class Counter(LogCounter owner, bool ours) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => ours && logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) Interlocked.Increment(ref owner._count);
            }
        }
    }
}
