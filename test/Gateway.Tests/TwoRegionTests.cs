using Grpc.Core;
using Xunit.Abstractions;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// Two regions in one test: a bank cluster and a scheme cluster (own silos, own cluster ids), each with its gateway,
/// linked by mutual TLS through forwarders the test can cut.
/// </summary>
public sealed class TwoRegionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private LinkedRegions _regions = null!;
    private ControllerService.ControllerServiceClient _bankApi = null!;
    private ControllerService.ControllerServiceClient _schemeApi = null!;
    private ServerPoolService.ServerPoolServiceClient _schemePools = null!;

    public async Task InitializeAsync()
    {
        // In memory: a restarted scheme forgets the pool, the replicas and the outbox; a restarted bank registers its
        // connections again from version 1.
        _regions = await LinkedRegions.StartAsync();
        _bankApi = new(_regions.Channel(_regions.Bank));
        _schemeApi = new(_regions.Channel(_regions.Scheme));
        _schemePools = new(_regions.Channel(_regions.Scheme));
        await AddSchemeServers();
    }

    private async Task AddSchemeServers()
    {
        foreach (var (id, zone) in new[] { ("visa-1", "zone-a"), ("visa-2", "zone-b") })
        {
            await _schemePools.AddServerAsync(new AddServerRequest
            {
                ServerPool = "visa",
                Server = new ServerInstance { ServerId = id, Address = $"{id}.scheme.example:5000", Zone = zone, Capacity = 10 },
            }, Operator);
        }
    }

    private async Task<Connection> Get(ControllerService.ControllerServiceClient api, string id) =>
        await api.GetConnectionAsync(new GetConnectionRequest { ConnectionId = id }, Operator);

    private async Task<int> SchemeLoad() =>
        (await _schemePools.ListServersAsync(new ListServersRequest { ServerPool = "visa" }, Operator)).Servers.Sum(s => s.Load);

    private static Task<bool> Agree(Func<Task<Connection>> a, Func<Task<Connection>> b) => Task.Run(async () =>
    {
        try
        {
            var (x, y) = (await a(), await b());
            return x.Version == y.Version && x.Status == y.Status && x.ServerId == y.ServerId && x.Incarnation == y.Incarnation;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return false;
        }
    });

    [Fact]
    public async Task Bank_registration_is_assigned_by_the_scheme_and_registries_converge_after_a_partition()
    {
        // Register on the bank side: the scheme side's pool makes the assignment.
        var registered = (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "acquirer-1", ServerPool = "visa", PreferredServer = "visa-2" }, Operator)).Connection;
        Assert.Equal("visa-2", registered.ServerId);
        Assert.Equal("bank-eu", registered.Region);
        Assert.Equal(1, await SchemeLoad());

        // A scheme-owned connection (registered in the scheme region itself).
        var schemeOwned = (await _schemeApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "issuer-host", ServerPool = "visa" }, Operator)).Connection;

        // Both registries agree (anti-entropy pushes each side's own entries to the other).
        await Eventually.Until(() => Agree(() => Get(_bankApi, registered.ConnectionId), () => Get(_schemeApi, registered.ConnectionId)), ok => ok);
        await Eventually.Until(() => Agree(() => Get(_schemeApi, schemeOwned.ConnectionId), () => Get(_bankApi, schemeOwned.ConnectionId)), ok => ok);

        // Cut the link both ways; change state on both sides.
        _regions.Cut();
        var closedOnBank = (await _bankApi.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = registered.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = registered.Version,
        }, Operator)).Connection;
        var closedOnScheme = (await _schemeApi.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = schemeOwned.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = schemeOwned.Version,
        }, Operator)).Connection;
        // While the link is down the bank keeps registering its own connections (from its mirror of the pool).
        var duringCut = (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "acquirer-2", ServerPool = "visa" }, Operator)).Connection;
        Assert.False(string.IsNullOrEmpty(duringCut.ServerId));

        await Task.Delay(1500);
        Assert.Equal(registered.Version, (await Get(_schemeApi, registered.ConnectionId)).Version);   // stale: no link
        Assert.Equal(schemeOwned.Version, (await Get(_bankApi, schemeOwned.ConnectionId)).Version);

        // Restore: SyncState converges both registries to the same versions, and the queued assignment reaches the scheme.
        _regions.Restore();
        await Eventually.Until(() => Agree(() => Get(_bankApi, registered.ConnectionId), () => Get(_schemeApi, registered.ConnectionId)), ok => ok,
            TimeSpan.FromSeconds(20));
        await Eventually.Until(() => Agree(() => Get(_schemeApi, schemeOwned.ConnectionId), () => Get(_bankApi, schemeOwned.ConnectionId)), ok => ok,
            TimeSpan.FromSeconds(20));
        Assert.Equal(closedOnBank.Version, (await Get(_schemeApi, registered.ConnectionId)).Version);
        Assert.Equal(closedOnScheme.Version, (await Get(_bankApi, schemeOwned.ConnectionId)).Version);
        await Eventually.Until(() => Agree(() => Get(_bankApi, duringCut.ConnectionId), () => Get(_schemeApi, duringCut.ConnectionId)), ok => ok,
            TimeSpan.FromSeconds(20));
        // visa-2 slot released by the close? The pool keeps the scheme's own bookkeeping: the queued assignment added one.
        var servers = await _schemePools.ListServersAsync(new ListServersRequest { ServerPool = "visa" }, Operator);
        Assert.Contains(servers.Servers, s => s.ServerId == duringCut.ServerId && s.Load >= 1);
    }

    [Fact]
    public async Task A_scheme_server_marked_unhealthy_fails_over_the_bank_connections_on_it()
    {
        var c = (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "acquirer-3", ServerPool = "visa", PreferredServer = "visa-2" }, Operator)).Connection;
        Assert.Equal("visa-2", c.ServerId);

        // The scheme region's operator (or detector) declares the server down; the scheme gateway relays it to the bank.
        await _schemePools.SetServerHealthAsync(new SetServerHealthRequest
        {
            ServerPool = "visa",
            ServerId = "visa-2",
            Health = ServerHealth.Unhealthy,
            Reason = "host unreachable",
        }, Operator);

        // The bank starts the move (no sidecar carries this connection, so it waits in Migrating, visibly).
        // (A Requested connection already names its failover target: wait for the move itself.)
        var moved = await Eventually.Until(() => Get(_bankApi, c.ConnectionId), x => x.FailoverTarget == "visa-1" && x.Status == ConnectionStatus.Migrating);
        Assert.Equal((ConnectionStatus.Migrating, "visa-2"), (moved.Status, moved.ServerId));

        // A verdict given while the link is down is queued and relayed once it is back. (Both ways: the bank's own
        // sync would otherwise fetch it with the mirror refresh.)
        _regions.Cut();
        await _schemePools.SetServerHealthAsync(new SetServerHealthRequest
        {
            ServerPool = "visa",
            ServerId = "visa-2",
            Health = ServerHealth.Healthy,
            Reason = "host back",
        }, Operator);
        var bankPools = new ServerPoolService.ServerPoolServiceClient(_regions.Channel(_regions.Bank));
        var mirror = await bankPools.ListServersAsync(new ListServersRequest { ServerPool = "visa" }, Operator);
        Assert.False(mirror.Servers.Single(s => s.ServerId == "visa-2").Healthy);
        _regions.Restore();
        await Eventually.Until(
            () => bankPools.ListServersAsync(new ListServersRequest { ServerPool = "visa" }, Operator).ResponseAsync,
            l => l.Servers.Single(s => s.ServerId == "visa-2").Healthy, TimeSpan.FromSeconds(20));
    }

    private async Task<bool> AllAgree(IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            if (!await Agree(() => Get(_bankApi, id), () => Get(_schemeApi, id))) return false;
        }
        return true;
    }

    private async Task<Connection> RegisterOnBank(string client, string preferred) =>
        (await _bankApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = client, ServerPool = "visa", PreferredServer = preferred }, Operator)).Connection;

    private async Task<Connection> Close(ControllerService.ControllerServiceClient api, Connection c) =>
        (await api.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = c.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = c.Version,
        }, Operator)).Connection;

    [Theory]
    [InlineData("refused")]
    [InlineData("black hole")]
    public async Task Both_registries_agree_within_5_s_of_the_links_return(string fault)
    {
        var onVisa2 = await RegisterOnBank("acquirer-a", "visa-2");
        var alsoOnVisa2 = await RegisterOnBank("acquirer-b", "visa-2");
        var onVisa1 = await RegisterOnBank("acquirer-c", "visa-1");
        var schemeOwned = (await _schemeApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "issuer-a", ServerPool = "visa", PreferredServer = "visa-1" }, Operator)).Connection;
        var schemeOnVisa2 = (await _schemeApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "issuer-b", ServerPool = "visa", PreferredServer = "visa-2" }, Operator)).Connection;
        var ids = new List<string> { onVisa2.ConnectionId, alsoOnVisa2.ConnectionId, onVisa1.ConnectionId, schemeOwned.ConnectionId, schemeOnVisa2.ConnectionId };
        await Eventually.Until(() => AllAgree(ids), ok => ok);

        if (fault == "refused")
        {
            _regions.Cut();
        }
        else
        {
            _regions.ToScheme.BlackHole();
            _regions.ToBank.BlackHole();
        }

        // Changes on both sides while apart: closes, a registration from the bank's mirror, and the scheme's verdict
        // on visa-2 (which the bank learns only when the link is back, and which then moves the bank's connections).
        await Close(_bankApi, alsoOnVisa2);
        await Close(_schemeApi, schemeOwned);
        var duringCut = await RegisterOnBank("acquirer-d", "visa-1");
        ids.Add(duringCut.ConnectionId);
        await _schemePools.SetServerHealthAsync(new SetServerHealthRequest
        {
            ServerPool = "visa",
            ServerId = "visa-2",
            Health = ServerHealth.Unhealthy,
            Reason = "host unreachable",
        }, Operator);
        await Task.Delay(TimeSpan.FromSeconds(4)); // long enough for every deadline and breaker to be in play
        Assert.Equal(onVisa2.Version, (await Get(_schemeApi, onVisa2.ConnectionId)).Version);

        var restored = System.Diagnostics.Stopwatch.StartNew();
        _regions.Restore();
        await Eventually.Until(async () =>
        {
            if (!await AllAgree(ids)) return false;
            // ... and agree on the end state, not on the state before the cut.
            var moved = await Get(_schemeApi, onVisa2.ConnectionId);
            var closed = await Get(_schemeApi, alsoOnVisa2.ConnectionId);
            var schemeClosed = await Get(_bankApi, schemeOwned.ConnectionId);
            return moved.Status == ConnectionStatus.Migrating && moved.FailoverTarget == "visa-1"
                && closed.Status == ConnectionStatus.Closed && schemeClosed.Status == ConnectionStatus.Closed;
        }, ok => ok, TimeSpan.FromSeconds(15));
        var elapsed = restored.Elapsed;
        output.WriteLine($"{fault}: agreement {elapsed.TotalMilliseconds:F0} ms after the link's return");
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"registries agreed {elapsed.TotalSeconds:F2} s after the link's return ({fault})");

        // The bank's mirror took the verdict too.
        var bankPools = new ServerPoolService.ServerPoolServiceClient(_regions.Channel(_regions.Bank));
        var mirror = await bankPools.ListServersAsync(new ListServersRequest { ServerPool = "visa" }, Operator);
        Assert.False(mirror.Servers.Single(s => s.ServerId == "visa-2").Healthy);
    }

    [Fact]
    public async Task A_registration_facing_a_black_holed_scheme_takes_the_mirror_within_about_a_second_and_says_it_is_provisional()
    {
        var confirmed = await RegisterOnBank("acquirer-1", "visa-1"); // the scheme assigns (and the bank mirrors the pool)
        Assert.DoesNotContain("provisional", confirmed.StatusDetail);

        _regions.ToScheme.BlackHole();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var provisional = await RegisterOnBank("acquirer-2", "visa-2");
        var first = clock.Elapsed;
        Assert.True(first < TimeSpan.FromSeconds(2), $"the first registration waited {first.TotalMilliseconds:F0} ms");
        Assert.Equal("visa-2", provisional.ServerId);
        Assert.Contains("provisional", provisional.StatusDetail);
        Assert.Contains("scheme-eu", provisional.StatusDetail);

        // The link is known down now: the next registration does not wait for a deadline at all.
        clock.Restart();
        var next = await RegisterOnBank("acquirer-3", "visa-1");
        var second = clock.Elapsed;
        Assert.True(second < TimeSpan.FromMilliseconds(500), $"the second registration waited {second.TotalMilliseconds:F0} ms");
        Assert.Contains("provisional", next.StatusDetail);
        output.WriteLine($"black-holed scheme: first registration {first.TotalMilliseconds:F0} ms, next {second.TotalMilliseconds:F0} ms");

        // Once the link is back the scheme confirms the assignments (the queued AssignServer) and holds the entries.
        _regions.ToScheme.Restore();
        await Eventually.Until(() => AllAgree([provisional.ConnectionId, next.ConnectionId]), ok => ok, TimeSpan.FromSeconds(5));
        var servers = (await _schemePools.ListServersAsync(new ListServersRequest { ServerPool = "visa" }, Operator)).Servers;
        Assert.Equal(1 + (next.ServerId == "visa-1" ? 1 : 0), servers.Single(x => x.ServerId == "visa-1").Load);
        Assert.Equal(1 + (next.ServerId == "visa-2" ? 1 : 0), servers.Single(x => x.ServerId == "visa-2").Load);
    }

    [Fact]
    public async Task After_a_scheme_restart_on_memory_the_banks_mirror_takes_the_schemes_current_health()
    {
        var c = await RegisterOnBank("acquirer-r", "visa-1");
        await _schemePools.SetServerHealthAsync(new SetServerHealthRequest
        {
            ServerPool = "visa",
            ServerId = "visa-2",
            Health = ServerHealth.Unhealthy,
            Reason = "host unreachable",
        }, Operator);
        var bankPools = new ServerPoolService.ServerPoolServiceClient(_regions.Channel(_regions.Bank));
        async Task<ServerInstance> MirrorOf(string id) =>
            (await bankPools.ListServersAsync(new ListServersRequest { ServerPool = "visa" }, Operator)).Servers.Single(s => s.ServerId == id);
        await Eventually.Until(() => MirrorOf("visa-2"), s => !s.Healthy);

        // The scheme restarts on memory: its pool, its replicas and its outbox are gone. Its operator adds the servers
        // again (healthy: the host is back); nothing relays that as a verdict.
        await _regions.Scheme.DisposeAsync();
        await _regions.StartSchemeAsync();
        await AddSchemeServers();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // The bank's next sync gives its mirror the scheme's current word, and the scheme relearns the bank's entries.
        var healed = await Eventually.Until(() => MirrorOf("visa-2"), s => s.Healthy, TimeSpan.FromSeconds(15));
        var elapsed = clock.Elapsed;
        output.WriteLine($"mirror healthy again {elapsed.TotalMilliseconds:F0} ms after the restarted scheme's servers were added");
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"the mirror kept the stale verdict for {elapsed.TotalSeconds:F1} s");
        Assert.Equal(ServerHealth.Healthy, healed.Health);
        await Eventually.Until(() => AllAgree([c.ConnectionId]), ok => ok, TimeSpan.FromSeconds(5));

        // And a verdict the scheme declares now (link up) reaches the mirror as before.
        await _schemePools.SetServerHealthAsync(new SetServerHealthRequest
        {
            ServerPool = "visa",
            ServerId = "visa-1",
            Health = ServerHealth.Degraded,
            Reason = "draining",
        }, Operator);
        Assert.Equal(ServerHealth.Degraded, (await Eventually.Until(() => MirrorOf("visa-1"), s => s.Health == ServerHealth.Degraded)).Health);
    }

    private async Task<string> Loads(GatewayHost side) =>
        string.Join(", ", (await new ServerPoolService.ServerPoolServiceClient(TlsClients.Channel(side.GrpcAddress, _regions.Certs.Ca, null))
            .ListServersAsync(new ListServersRequest { ServerPool = "visa" }, Operator)).Servers
            .OrderBy(s => s.ServerId, StringComparer.Ordinal).Select(s => $"{s.ServerId}={s.Load}"));

    [Fact]
    public async Task Loads_follow_the_connections_after_a_scheme_restart_on_memory()
    {
        await RegisterOnBank("acquirer-l1", "visa-2");
        await RegisterOnBank("acquirer-l2", "visa-2");
        Assert.Equal("visa-1=0, visa-2=2", await Loads(_regions.Scheme));
        Assert.Equal("visa-1=0, visa-2=2", await Loads(_regions.Bank));

        // The scheme forgets everything; its servers come back (load 0 there, 2 on the bank's mirror: the drift).
        await _regions.Scheme.DisposeAsync();
        await _regions.StartSchemeAsync();
        await AddSchemeServers();

        // The bank's next round gives the scheme its entries, and the scheme's pool takes the slots they hold.
        var loads = await Eventually.Until(() => Loads(_regions.Scheme), l => l == "visa-1=0, visa-2=2", TimeSpan.FromSeconds(15));
        Assert.Equal(await Loads(_regions.Bank), loads);
        Assert.Equal(2, await SchemeLoad());
    }

    [Fact]
    public async Task A_replayed_assignment_does_not_count_a_server_the_bank_has_moved_the_connection_off()
    {
        var bankOwned = await RegisterOnBank("acquirer-m0", "visa-2");
        var schemeOwned = (await _schemeApi.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "issuer-m", ServerPool = "visa", PreferredServer = "visa-1" }, Operator)).Connection;
        // Each side counts both regions' connections: the scheme's, on the bank's mirror too.
        await Eventually.Until(() => Loads(_regions.Bank), l => l == "visa-1=1, visa-2=1");
        Assert.Equal("visa-1=1, visa-2=1", await Loads(_regions.Scheme));

        _regions.Cut();
        // Provisional on visa-2 (queued for the scheme with visa-2 as its choice), then moved in the bank's mirror.
        var provisional = await RegisterOnBank("acquirer-m", "visa-2");
        Assert.Equal("visa-2", provisional.ServerId);
        var moved = (await _bankApi.RequestFailoverAsync(new RequestFailoverRequest
        {
            ConnectionId = provisional.ConnectionId,
            Reason = "operator moves it",
            IdempotencyKey = "move-m",
        }, Operator)).Connection;
        Assert.Equal((ConnectionStatus.Migrating, "visa-1"), (moved.Status, moved.FailoverTarget));
        Assert.Equal("visa-1=2, visa-2=1", await Loads(_regions.Bank));

        _regions.Restore();
        // The replay reserves visa-2 at the scheme; the entry pushed right after moves the slot to where the bank holds it.
        await Eventually.Until(() => AllAgree([provisional.ConnectionId, schemeOwned.ConnectionId, bankOwned.ConnectionId]), ok => ok, TimeSpan.FromSeconds(10));
        var loads = await Eventually.Until(() => Loads(_regions.Scheme), l => l == "visa-1=2, visa-2=1", TimeSpan.FromSeconds(10));
        Assert.Equal(await Loads(_regions.Bank), loads);
    }

    [Fact]
    public async Task After_the_bank_restarts_on_memory_the_schemes_copy_follows_the_new_registration_from_version_1()
    {
        // The bank's connection goes through a few changes; the scheme's copy agrees at version 5.
        var id = $"conn-reborn-{Guid.NewGuid():N}"[..24];
        var c = (await _bankApi.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ConnectionId = id,
            ClientId = "acquirer-reborn",
            ServerPool = "visa",
            PreferredServer = "visa-1",
        }, Operator)).Connection;
        // A move that waits in Migrating (no sidecar carries it here), given up by hand: version 3 or more.
        c = (await _bankApi.RequestFailoverAsync(
            new RequestFailoverRequest { ConnectionId = id, Reason = "operator: drain", IdempotencyKey = $"drain-{Guid.NewGuid():N}" }, Operator)).Connection;
        c = (await _bankApi.UpdateConnectionStateAsync(
            new UpdateConnectionStateRequest { ConnectionId = id, State = ConnectionStatus.Failed, ExpectedVersion = c.Version }, Operator)).Connection;
        Assert.True(c.Version >= 3, $"version {c.Version}");
        await Eventually.Until(() => Agree(() => Get(_bankApi, id), () => Get(_schemeApi, id)), ok => ok, TimeSpan.FromSeconds(20));
        var old = await Get(_schemeApi, id);
        Assert.True(old.Version >= 3, $"version {old.Version}");
        Assert.False(string.IsNullOrEmpty(old.Incarnation));

        // The bank controller restarts on memory and its connection registers again, then fails.
        await _regions.Bank.DisposeAsync();
        await _regions.StartBankAsync();
        _bankApi = new(_regions.Channel(_regions.Bank));
        var reborn = (await _bankApi.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ConnectionId = id,
            ClientId = "acquirer-reborn",
            ServerPool = "visa",
        }, Operator)).Connection;
        Assert.Equal(1L, reborn.Version);
        Assert.NotEqual(old.Incarnation, reborn.Incarnation);
        var failed = (await _bankApi.UpdateConnectionStateAsync(
            new UpdateConnectionStateRequest { ConnectionId = id, State = ConnectionStatus.Failed, ExpectedVersion = 1 }, Operator)).Connection;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // The scheme's copy (at version 3 or more of the old registration) follows the new one from its version 2 on:
        // versions, status and server equal to the bank's.
        Assert.Equal(2L, failed.Version);
        await Eventually.Until(() => Agree(() => Get(_bankApi, id), () => Get(_schemeApi, id)), ok => ok, TimeSpan.FromSeconds(10));
        output.WriteLine($"scheme's copy on the new registration {clock.Elapsed.TotalMilliseconds:F0} ms after its change");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the scheme's copy took {clock.Elapsed.TotalSeconds:F1} s");
        var copy = await Get(_schemeApi, id);
        Assert.Equal((reborn.Incarnation, "bank-eu"), (copy.Incarnation, copy.Region));
        Assert.True(copy.Version < old.Version || copy.Status != old.Status, "the copy still shows the old registration");
        var listed = await List(_schemeApi, new ListConnectionsRequest { Region = "bank-eu", PageSize = 1000 });
        Assert.Contains(listed.Connections, x => x.ConnectionId == id && x.Version == copy.Version && x.Incarnation == reborn.Incarnation);

        // A push of the old registration arriving late (here from the bank's own certificate) does not roll it back:
        // the scheme answers with its newer copy.
        var lateBank = new ControllerService.ControllerServiceClient(
            TlsClients.Channel(_regions.Scheme.GrpcAddress, _regions.Certs.Ca, _regions.Certs.IssueClient("bank-eu", "peer")));
        var stale = old.Clone();
        stale.Version = old.Version + 5;
        var answer = await lateBank.SyncStateAsync(new SyncStateRequest { SourceRegion = "bank-eu", Entries = { stale } });
        var newer = Assert.Single(answer.Newer);
        Assert.Equal((reborn.Incarnation, copy.Version), (newer.Incarnation, newer.Version));
        Assert.True(await Agree(() => Get(_bankApi, id), () => Get(_schemeApi, id)));
    }

    private async Task<ListConnectionsResponse> List(ControllerService.ControllerServiceClient api, ListConnectionsRequest request, Metadata? who = null) =>
        await api.ListConnectionsAsync(request, who ?? Operator);

    [Fact]
    public async Task Each_side_lists_both_regions_connections_with_the_owner_and_the_other_regions_are_read_only()
    {
        // Both name sidecar-1: sidecar ids are per region, and the scheme's sidecar-1 must not see the bank's.
        var bankOwned = (await _bankApi.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ClientId = "acquirer-l",
            ServerPool = "visa",
            PreferredServer = "visa-1",
            SidecarId = "sidecar-1",
        }, Operator)).Connection;
        var schemeOwned = (await _schemeApi.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ClientId = "issuer-l",
            ServerPool = "visa",
            PreferredServer = "visa-2",
            SidecarId = "sidecar-1",
        }, Operator)).Connection;

        // The scheme's operator sees who is connected to its servers, whoever owns the connection.
        var onScheme = await Eventually.Until(() => List(_schemeApi, new ListConnectionsRequest { ServerPool = "visa" }),
            l => l.Connections.Any(c => c.ConnectionId == bankOwned.ConnectionId));
        Assert.Equal("bank-eu", onScheme.Connections.Single(c => c.ConnectionId == bankOwned.ConnectionId).Region);
        Assert.Equal("scheme-eu", onScheme.Connections.Single(c => c.ConnectionId == schemeOwned.ConnectionId).Region);
        var replica = onScheme.Connections.Single(c => c.ConnectionId == bankOwned.ConnectionId);
        Assert.Equal((bankOwned.Version, bankOwned.ServerId, bankOwned.Status), (replica.Version, replica.ServerId, replica.Status));

        // The owning region is a filter, and the other filters apply to the replicas too.
        var banks = await List(_schemeApi, new ListConnectionsRequest { Region = "bank-eu" });
        Assert.Equal([bankOwned.ConnectionId], banks.Connections.Select(c => c.ConnectionId));
        var schemes = await List(_schemeApi, new ListConnectionsRequest { Region = "scheme-eu" });
        Assert.Equal([schemeOwned.ConnectionId], schemes.Connections.Select(c => c.ConnectionId));
        var onVisa1 = await List(_schemeApi, new ListConnectionsRequest { ServerId = "visa-1" });
        Assert.Equal([bankOwned.ConnectionId], onVisa1.Connections.Select(c => c.ConnectionId));
        Assert.Empty((await List(_schemeApi, new ListConnectionsRequest { Region = "elsewhere" })).Connections);

        // The same from the bank's side.
        var onBank = await Eventually.Until(() => List(_bankApi, new ListConnectionsRequest()),
            l => l.Connections.Any(c => c.ConnectionId == schemeOwned.ConnectionId));
        Assert.Equal(["bank-eu", "scheme-eu"], onBank.Connections.Select(c => c.Region).Order());

        // Read only for the non-owner: the answer names the owner.
        var e = await Assert.ThrowsAsync<RpcException>(() => _schemeApi.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = bankOwned.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = bankOwned.Version,
        }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("bank-eu", e.Status.Detail);
        e = await Assert.ThrowsAsync<RpcException>(() => _schemeApi.RequestFailoverAsync(new RequestFailoverRequest
        {
            ConnectionId = bankOwned.ConnectionId,
            Reason = "operator",
            IdempotencyKey = "k-1",
        }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);

        // A sidecar sees its own connections only, never the other region's (even one with its name on it).
        var mine = await List(_schemeApi, new ListConnectionsRequest(), Sidecar1);
        Assert.Equal([schemeOwned.ConnectionId], mine.Connections.Select(c => c.ConnectionId));
        e = await Assert.ThrowsAsync<RpcException>(() => _schemeApi.ListConnectionsAsync(new ListConnectionsRequest { Region = "bank-eu" }, Sidecar1).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task A_server_sidecar_attached_to_the_bank_is_told_the_scheme_owns_the_pools()
    {
        var sidecars = new SidecarService.SidecarServiceClient(_regions.Channel(_regions.Bank));
        var (stream, _) = await SidecarStream.AttachAsync(sidecars, Sidecar1, "sidecar-1");
        await using var _ = stream;
        await stream.SendAsync(new SidecarMessage
        {
            ServerRegistration = new ServerRegistration { ServerPool = "visa", ServerId = "visa-9", Address = "10.0.0.9:5000", Zone = "zone-a", Capacity = 5 },
        });
        var rejected = (await stream.NextAsync())!.Rejected;
        Assert.Equal("FAILED_PRECONDITION", rejected.Code);
        Assert.Contains("owned by region scheme-eu", rejected.Message);
    }

    [Fact]
    public async Task SyncState_from_the_peer_for_another_region_is_PERMISSION_DENIED()
    {
        var peerAsBank = new ControllerService.ControllerServiceClient(
            TlsClients.Channel(_regions.Scheme.GrpcAddress, _regions.Certs.Ca, _regions.Certs.IssueClient("bank-eu", "peer")));
        var e = await Assert.ThrowsAsync<RpcException>(() => peerAsBank.SyncStateAsync(new SyncStateRequest
        {
            SourceRegion = "scheme-eu",
            Entries = { new Connection { ConnectionId = "x", Version = 1, Status = ConnectionStatus.Active, Region = "scheme-eu" } },
        }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    public async Task DisposeAsync() => await _regions.DisposeAsync();
}
