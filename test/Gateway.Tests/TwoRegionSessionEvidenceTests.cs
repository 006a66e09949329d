using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Contract.V1;
using OrleansControl.GrainInterfaces;
using SessionVerdict = OrleansControl.GrainInterfaces.Models.SessionVerdict;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// The server side's evidence crosses regions (docs/grains.md, "Absence is not failure"): as in the seed, the client
/// sidecars attach to the bank controller and the server sidecar to the scheme controller, two clusters linked by
/// mutual TLS over real loopback TCP (through forwarders the test can cut). The scheme relays its server's session
/// reports; the bank's connection grain judges its silent client by them.
/// </summary>
public sealed class TwoRegionSessionEvidenceTests : IAsyncLifetime
{
    private const string ClientEnd = "10.9.0.1:40001";
    private const string Server = "visa-1";
    private LinkedRegions _regions = null!;

    public async Task InitializeAsync()
    {
        var fast = new Dictionary<string, string?> { ["Controller:Health:HeartbeatInterval"] = "00:00:01" };
        _regions = await LinkedRegions.StartAsync(bank: fast, scheme: new Dictionary<string, string?>(fast)
        {
            // The scheme server's sidecars (sidecar-7, sidecar-9) report the sessions of pool visa's servers.
            ["Gateway:Auth:ServerPools:2:Sidecar"] = "sidecar-7",
            ["Gateway:Auth:ServerPools:2:Pools:0"] = "visa",
            ["Gateway:Auth:ServerPools:3:Sidecar"] = "sidecar-9",
            ["Gateway:Auth:ServerPools:3:Pools:0"] = "visa",
        });
        await _regions.AddSchemeServersAsync("visa", (Server, "zone-a"));
    }

    public async Task DisposeAsync() => await _regions.DisposeAsync();

    [Fact]
    public async Task A_silent_bank_client_is_unknown_while_the_scheme_server_holds_its_session_and_dies_over_to_its_standby_once_the_scheme_says_it_is_gone()
    {
        var bankApi = new ControllerService.ControllerServiceClient(_regions.Channel(_regions.Bank));
        var bankSidecars = new SidecarService.SidecarServiceClient(_regions.Channel(_regions.Bank));
        var schemeSidecars = new SidecarService.SidecarServiceClient(_regions.Channel(_regions.Scheme));
        Task<Connection> Get(string id) => bankApi.GetConnectionAsync(new GetConnectionRequest { ConnectionId = id }, Operator).ResponseAsync;

        // The bank's client (sidecar-5) registers; the scheme's pool assigns visa-1; it signs on there from ClientEnd.
        var registered = (await bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "acquirer-1", ServerPool = "visa", PreferredServer = Server }, Sidecar(5))).Connection;
        Assert.Equal((Server, "sidecar-5"), (registered.ServerId, registered.SidecarId));
        var (client, _) = await SidecarStream.AttachAsync(bankSidecars, Sidecar(5), "sidecar-5");
        await SignedOnBeatAsync(client, registered.ConnectionId, registered.ServerAddress, ClientEnd);
        await Eventually.Until(() => Get(registered.ConnectionId), c => c.Status == ConnectionStatus.Active);
        // Its DR standby (sidecar-6) is attached to the bank too.
        var (standby, _) = await SidecarStream.AttachAsync(bankSidecars, Sidecar(6), "sidecar-6");
        await using var _standby = standby;
        await bankApi.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ConnectionId = registered.ConnectionId,
            ClientId = "acquirer-1",
            ServerPool = "visa",
            Standby = true,
        }, Sidecar(6));

        // The scheme server's sidecar (sidecar-7) reports to the scheme controller: it holds the client's session.
        var (serverSide, _) = await SidecarStream.AttachAsync(schemeSidecars, Sidecar(7), "sidecar-7");
        await using var _serverSide = serverSide;
        var held = new[] { ClientEnd };
        using var stopReports = new CancellationTokenSource();
        var reports = Task.Run(async () =>
        {
            while (!stopReports.IsCancellationRequested)
            {
                var report = new SessionReport { ServerPool = "visa", ServerId = Server, ServerAddress = registered.ServerAddress };
                report.Sessions.AddRange(Volatile.Read(ref held).Select(e => new HeldSession { ClientAddress = e, SignedOnAs = "acquirer-1", SignedOn = true }));
                await serverSide.SendAsync(new SidecarMessage { SessionReport = report });
                try { await Task.Delay(300, stopReports.Token); } catch (OperationCanceledException) { }
            }
        });
        for (var i = 0; i < 3; i++)
        {
            await SignedOnBeatAsync(client, registered.ConnectionId, registered.ServerAddress, ClientEnd);
            await Task.Delay(500);
        }

        // 1. The client's control path is cut (its stream to the bank ends); the scheme's server still holds the session.
        await client.DisposeAsync();
        var unknown = await Eventually.Until(() => Get(registered.ConnectionId), c => c.Status != ConnectionStatus.Active, TimeSpan.FromSeconds(15));
        Assert.Equal(ConnectionStatus.Unknown, unknown.Status);
        Assert.Contains("still holds its session", unknown.StatusDetail, StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var still = await Get(registered.ConnectionId);
        Assert.Equal((ConnectionStatus.Unknown, Server, "sidecar-5", ""), (still.Status, still.ServerId, still.SidecarId, still.ActivatingSidecarId));
        Assert.Null(await standby.NextAsync(TimeSpan.FromMilliseconds(200)));

        // 2. The link between the regions is cut, and the session ends at the scheme: the bank cannot know. Its last
        // relayed report ages out (no evidence): still Unknown, no standby activated on a guess.
        _regions.Cut();
        Volatile.Write(ref held, []);
        await Task.Delay(TimeSpan.FromSeconds(5)); // past the freshness window (3 missed heartbeats of 1 s)
        var blind = await Get(registered.ConnectionId);
        Assert.Equal((ConnectionStatus.Unknown, "sidecar-5", ""), (blind.Status, blind.SidecarId, blind.ActivatingSidecarId));

        // 3. The link returns: the scheme's report (no session from ClientEnd) reaches the bank, which judges the client
        // dead and activates the standby; the registry names it once it has signed on.
        _regions.Restore();
        var connect = await NextCommandAsync(standby, CommandKind.Connect, TimeSpan.FromSeconds(20));
        Assert.Equal(registered.ServerAddress, connect.TargetServerAddress);
        var activating = await Get(registered.ConnectionId);
        Assert.Equal((ConnectionStatus.Failed, "sidecar-5", "sidecar-6"), (activating.Status, activating.SidecarId, activating.ActivatingSidecarId));
        Assert.Contains("no longer holds its session", activating.StatusDetail, StringComparison.Ordinal);
        await standby.AckAsync(connect, registered.ServerAddress);
        var active = await Eventually.Until(() => Get(registered.ConnectionId), c => c.SidecarId == "sidecar-6");
        Assert.Equal((ConnectionStatus.Active, Server), (active.Status, active.ServerId));
        Assert.Contains(active.Standbys, s => s.SidecarId == "sidecar-5" && s.FormerPrimary);

        await stopReports.CancelAsync();
        await reports;
    }

    [Fact]
    public async Task A_client_that_signed_on_again_from_a_new_end_is_judged_by_that_end_named_in_its_state_report()
    {
        var bankApi = new ControllerService.ControllerServiceClient(_regions.Channel(_regions.Bank));
        var bankSidecars = new SidecarService.SidecarServiceClient(_regions.Channel(_regions.Bank));
        var schemeSidecars = new SidecarService.SidecarServiceClient(_regions.Channel(_regions.Scheme));
        Task<Connection> Get(string id) => bankApi.GetConnectionAsync(new GetConnectionRequest { ConnectionId = id }, Operator).ResponseAsync;
        const string newEnd = "10.9.0.1:40777";

        var registered = (await bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "acquirer-2", ServerPool = "visa", PreferredServer = Server }, Sidecar(8))).Connection;
        var (client, _) = await SidecarStream.AttachAsync(bankSidecars, Sidecar(8), "sidecar-8");
        await SignedOnBeatAsync(client, registered.ConnectionId, registered.ServerAddress, ClientEnd);
        await Eventually.Until(() => Get(registered.ConnectionId), c => c.Status == ConnectionStatus.Active);
        // The link dropped and signed on again at the same server from a new local port: the sidecar's state report
        // says so at once; its control path is cut before its next heartbeat.
        await client.SendAsync(new SidecarMessage
        {
            StateReport = new StateReport
            {
                ConnectionId = registered.ConnectionId,
                State = LinkState.SignedOn,
                ServerAddress = registered.ServerAddress,
                Detail = "signed on",
                LocalAddress = newEnd,
            },
        });
        await Task.Delay(300);
        await client.DisposeAsync();

        // The scheme's server holds the new session only: the client is alive (a control-path problem), not dead.
        var (serverSide, _) = await SidecarStream.AttachAsync(schemeSidecars, Sidecar(9), "sidecar-9");
        await using var _serverSide = serverSide;
        using var stopReports = new CancellationTokenSource();
        var reports = Task.Run(async () =>
        {
            while (!stopReports.IsCancellationRequested)
            {
                var report = new SessionReport { ServerPool = "visa", ServerId = Server, ServerAddress = registered.ServerAddress };
                report.Sessions.Add(new HeldSession { ClientAddress = newEnd, SignedOnAs = "acquirer-2", SignedOn = true });
                await serverSide.SendAsync(new SidecarMessage { SessionReport = report });
                try { await Task.Delay(300, stopReports.Token); } catch (OperationCanceledException) { }
            }
        });
        var judged = await Eventually.Until(() => Get(registered.ConnectionId), c => c.Status != ConnectionStatus.Active, TimeSpan.FromSeconds(15));
        Assert.Equal((ConnectionStatus.Unknown, "sidecar-8"), (judged.Status, judged.SidecarId));
        Assert.Contains($"reported a session from {newEnd}", judged.StatusDetail, StringComparison.Ordinal);
        await stopReports.CancelAsync();
        await reports;
    }

    [Theory]
    [InlineData(+3600, 30_000, SessionVerdict.NoEvidence)] // the peer's clock an hour ahead: held 30 s there, so 30 s old here
    [InlineData(-3600, 200, SessionVerdict.Seen)]          // an hour behind: received there 0.2 s before it was sent, fresh
    public async Task A_relayed_report_is_aged_by_what_the_peer_held_it_for_not_by_the_peers_clock(int peerClockSkewSeconds, int heldForMs, SessionVerdict expected)
    {
        var server = $"visa-skew-{Guid.NewGuid():N}"[..18];
        var peerNow = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(peerClockSkewSeconds);
        var relayed = new RelayedSessionReport
        {
            Report = new SessionReport { ServerPool = "visa", ServerId = server, ServerAddress = "visa-1.scheme.example:5000" },
            ReceivedAt = Timestamp.FromDateTimeOffset(peerNow - TimeSpan.FromMilliseconds(heldForMs)),
            HeldFor = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(heldForMs)),
            ReporterSidecarId = "sidecar-7",
        };
        relayed.Report.Sessions.Add(new HeldSession { ClientAddress = ClientEnd, SignedOnAs = "acquirer-1", SignedOn = true });
        var asPeer = new ControllerService.ControllerServiceClient(TlsClients.Channel(_regions.Bank.GrpcAddress, _regions.Certs.Ca, _regions.Certs.IssueClient("scheme-eu", "peer")));
        var answer = await asPeer.RelaySessionsAsync(new RelaySessionsRequest { SourceRegion = "scheme-eu", Reports = { relayed } });
        Assert.Equal(1, answer.Accepted);

        var sessions = _regions.Bank.Services.GetRequiredService<IGrainFactory>().GetGrain<IServerSessionsGrain>(IServerSessionsGrain.KeyOf("visa", server));
        var evidence = await sessions.Sees(ClientEnd, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(2), freshFor: TimeSpan.FromSeconds(10));
        Assert.True(expected == evidence.Verdict, $"{evidence.Verdict}: {evidence.Detail}");
        var age = DateTimeOffset.UtcNow - evidence.ReportedAt!.Value;
        Assert.InRange(age, TimeSpan.FromMilliseconds(heldForMs), TimeSpan.FromMilliseconds(heldForMs) + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_relayed_report_held_for_a_negative_time_is_refused_naming_the_field()
    {
        var asPeer = new ControllerService.ControllerServiceClient(TlsClients.Channel(_regions.Bank.GrpcAddress, _regions.Certs.Ca, _regions.Certs.IssueClient("scheme-eu", "peer")));
        var relayed = new RelayedSessionReport
        {
            Report = new SessionReport { ServerPool = "visa", ServerId = Server },
            ReceivedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            HeldFor = Duration.FromTimeSpan(TimeSpan.FromSeconds(-5)),
            ReporterSidecarId = "sidecar-7",
        };
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => asPeer.RelaySessionsAsync(new RelaySessionsRequest { SourceRegion = "scheme-eu", Reports = { relayed } }).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("reports[0].held_for", e.Status.Detail, StringComparison.Ordinal);
    }

    private static Task SignedOnBeatAsync(SidecarStream stream, string connectionId, string serverAddress, string localAddress) =>
        stream.SendAsync(new SidecarMessage
        {
            Heartbeat = new Heartbeat
            {
                ConnectionId = connectionId,
                EchoRttMs = 12,
                LinkState = LinkState.SignedOn,
                ServerAddress = serverAddress,
                LocalAddress = localAddress,
                SentAt = Timestamp.FromDateTime(DateTime.UtcNow),
            },
        });

    private static async Task<Command> NextCommandAsync(SidecarStream stream, CommandKind kind, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            var next = await stream.NextAsync(until - DateTime.UtcNow);
            if (next?.Command is { } command && command.Kind == kind) return command;
        }
        throw new TimeoutException($"no {kind} command within {within.TotalSeconds:0} s");
    }
}
