using System.Diagnostics;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests.Processes;

/// <summary>
/// A whole installation, every piece its own process: the controller, scheme servers srv-a, srv-b, … (one zone each)
/// declared in one pool, one sidecar whose link prefers srv-a, and the bank's application sending 0200s through the
/// sidecar's relay port. Started signed on and approving at srv-a. Dispose stops every process, also after a failure.
/// </summary>
internal sealed class Deployment : IAsyncDisposable
{
    public const string Pool = "scheme";
    public const string SidecarId = "sidecar-1";
    public const string ClientId = "bank-a";
    private readonly ITestOutputHelper _output;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<SchemeServerProcess> _servers = [];

    private Deployment(ITestOutputHelper output) => _output = output;

    public ControllerProcess Controller { get; private set; } = null!;

    public IReadOnlyList<SchemeServerProcess> Servers => _servers;

    public SidecarHostProcess Sidecar { get; private set; } = null!;

    public IsoTraffic Traffic { get; private set; } = null!;

    public string ConnectionId => Sidecar.ConnectionId;

    public ControllerRest Rest => Controller.Rest;

    public SchemeServerProcess this[string serverId] => _servers.Single(s => s.ServerId == serverId);

    /// <param name="serverSessions">Each scheme server reports the sessions it holds to the controller (its server-side
    /// sidecar), so the controller can tell a silent client from a dead one.</param>
    /// <param name="startClient">Start the bank's client sidecar and wait for it to approve at srv-a (false: the test
    /// starts its clients itself; <see cref="Sidecar"/> and <see cref="Traffic"/> stay null).</param>
    public static async Task<Deployment> StartAsync(int servers, ITestOutputHelper output, TimeSpan? moveDeadline = null, bool serverSessions = false,
        bool startClient = true)
    {
        var deployment = new Deployment(output);
        try
        {
            await deployment.StartCoreAsync(servers, moveDeadline ?? TimeSpan.FromSeconds(2), serverSessions, startClient);
            return deployment;
        }
        catch
        {
            await deployment.DisposeAsync();
            throw;
        }
    }

    /// <summary>What an operator's configuration declares: every server of the pool (also after a controller restart).</summary>
    public async Task DeclareServersAsync()
    {
        foreach (var server in _servers)
        {
            await Rest.AddServerAsync(Pool, server.ServerId, server.Address, server.Zone);
        }
    }

    public Task<RegistryEntry> RegistryUntil(Func<RegistryEntry, bool> done, string what, TimeSpan? timeout = null) =>
        Eventually.Until(() => Rest.GetConnectionAsync(ConnectionId), e => e is not null && done(e), what, timeout, Diagnostics)!;

    public Task<SidecarStatus> SidecarUntil(Func<SidecarStatus, bool> done, string what, TimeSpan? timeout = null) =>
        Eventually.Until(Sidecar.StatusAsync, done, what, timeout, Diagnostics);

    /// <summary>Waits until the link is signed on at <paramref name="server"/> and the registry says ACTIVE there.</summary>
    public async Task<RegistryEntry> UntilSignedOnAt(SchemeServerProcess server, TimeSpan? timeout = null)
    {
        var entry = await Eventually.Until(async () => (await Rest.GetConnectionAsync(ConnectionId), await Sidecar.StatusAsync()),
            x => x.Item1 is { Status: "ACTIVE" } e && e.ServerId == server.ServerId && e.ServerAddress == server.Address && x.Item2.IsSignedOnAt(server),
            $"the link signed on at {server.ServerId} and the registry ACTIVE there", timeout, Diagnostics);
        Log($"signed on at {server.ServerId}: {entry.Item1}");
        return entry.Item1!;
    }

    /// <summary>Sends 0200s until one is approved by <paramref name="server"/>, then <paramref name="more"/> that must all be.</summary>
    public async Task AssertTransactionsApprovedBy(SchemeServerProcess server, int more = 5)
    {
        await Eventually.Until(Traffic.AuthorizeAsync, a => a.Outcome == Outcome.Approved && a.ServerId == server.ServerId,
            $"a 0200 approved by {server.ServerId}", diagnostics: Diagnostics, poll: TimeSpan.FromMilliseconds(20));
        for (var i = 0; i < more; i++)
        {
            var answer = await Traffic.AuthorizeAsync();
            Assert.True(answer.Outcome == Outcome.Approved && answer.ServerId == server.ServerId,
                $"0200 #{i + 1} after the first approval by {server.ServerId}: {answer}{Environment.NewLine}{Diagnostics()}");
        }
    }

    /// <summary>Waits until the registry is ACTIVE on the server the link is signed on at, whichever it is; returns it.</summary>
    public async Task<SchemeServerProcess> UntilRegistryAndLinkAgree()
    {
        var (entry, _) = await Eventually.Until(async () => (await Rest.GetConnectionAsync(ConnectionId), await Sidecar.StatusAsync()),
            x => x.Item1 is { Status: "ACTIVE" } e && _servers.Any(s => s.ServerId == e.ServerId && x.Item2.IsSignedOnAt(s)),
            "the registry ACTIVE where the link is signed on", diagnostics: Diagnostics);
        Log($"registry and link agree: {entry}");
        return this[entry!.ServerId!];
    }

    public void Log(string message)
    {
        try
        {
            _output.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:0.000} s] {message}");
        }
        catch (InvalidOperationException)
        {
            // The test has ended (a background caller).
        }
    }

    /// <summary>What every process said last, the traffic so far: attached to every timeout and failed assertion.</summary>
    public string Diagnostics() => string.Join(Environment.NewLine,
        new[] { $"traffic: {Traffic?.Summary() ?? "-"}", Controller?.Tail() ?? "", Sidecar?.Tail() ?? "" }
            .Concat(_servers.Select(s => s.Tail(8))));

    public async ValueTask DisposeAsync()
    {
        var stops = new List<Func<ValueTask>>
        {
            () => Traffic is null ? ValueTask.CompletedTask : Traffic.DisposeAsync(),
            () => Dispose(Sidecar),
            () => Dispose(Controller),
        };
        stops.AddRange(_servers.Select(s => (Func<ValueTask>)(() => Dispose(s))));
        var failures = new List<Exception>();
        foreach (var stop in stops)
        {
            try
            {
                await stop();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        if (failures.Count > 0)
        {
            throw new AggregateException("stopping the deployment", failures);
        }

        static ValueTask Dispose(IDisposable? d)
        {
            d?.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private async Task StartCoreAsync(int servers, TimeSpan moveDeadline, bool serverSessions, bool startClient)
    {
        var controller = ControllerProcess.StartAsync(moveDeadline);
        if (serverSessions)
        {
            // The servers' sidecars need the controller's address: it first.
            Controller = await controller;
        }

        var starting = Enumerable.Range(0, servers)
            .Select(i => SchemeServerProcess.StartAsync($"srv-{(char)('a' + i)}", $"zone-{(char)('a' + i)}", serverSessions ? Controller.GrpcAddress : null)).ToList();
        try
        {
            await Task.WhenAll(starting.Cast<Task>().Append(controller));
        }
        finally
        {
            // WhenAll waits for every start: keep each that succeeded, so Dispose stops it whatever failed.
            _servers.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            Controller = controller.IsCompletedSuccessfully ? controller.Result : null!;
        }

        Log($"controller and {servers} scheme servers up");
        await DeclareServersAsync();
        if (!startClient)
        {
            return;
        }

        Sidecar = await SidecarHostProcess.StartAsync(Controller.GrpcAddress, SidecarId, ClientId, Pool, preferredServer: "srv-a");
        Traffic = new IsoTraffic(Sidecar.RelayPort);
        await UntilSignedOnAt(this["srv-a"]);
        await AssertTransactionsApprovedBy(this["srv-a"], more: 2);
        Log("started: approving at srv-a");
    }
}
