using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Contract.V1;
using OrleansControl.GrainInterfaces;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Security;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// The policy table (Security/GatewayPolicies.cs) on the running gateway: refusals say the rule over gRPC and REST,
/// an unauthenticated caller is 401 whatever it sent, a server-mode sidecar declares only into its granted pools.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class AuthorizationPolicyTests(GatewayFixture f) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = f.Host.RestAddress };

    [Fact]
    public async Task A_refused_policy_is_PERMISSION_DENIED_naming_the_RPC_and_who_may_call_it()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => f.Pools.AddServerAsync(new AddServerRequest
        {
            ServerPool = "p",
            Server = new ServerInstance { ServerId = "s", Address = "h:1", Zone = "z", Capacity = 1 },
        }, Sidecar1).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Equal("permission denied: AddServer needs an operator", e.Status.Detail);
    }

    [Fact]
    public async Task An_unauthenticated_call_says_what_to_present()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => f.Pools.ListServersAsync(new ListServersRequest { ServerPool = "p" }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Equal(GatewayAuthorizationResultHandler.AuthenticationRequired, e.Status.Detail);
    }

    [Fact]
    public async Task Over_REST_a_refused_policy_is_403_with_the_rule_in_the_transcoding_error_body()
    {
        using var request = Post("/api/v1/pools/p/servers", """{"server":{"serverId":"s","address":"h:1","zone":"z","capacity":1}}""", GatewayHost.SidecarToken(1));
        using var response = await _http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal((7, "permission denied: AddServer needs an operator"), (body.GetProperty("code").GetInt32(), body.GetProperty("message").GetString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("guessed-token")]
    public async Task A_bad_REST_body_from_an_unauthenticated_caller_is_401_not_400(string? token)
    {
        using var request = Post("/api/v1/connections", """{"clientId": 123, "nonsense": true""", token);
        using var response = await _http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(16, body.GetProperty("code").GetInt32());
        Assert.Contains("bearer token", body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_query_from_an_unauthenticated_caller_is_401_not_400()
    {
        using var response = await _http.GetAsync("/api/v1/connections?page_size=abc");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    public static TheoryData<string, string> BadQueries => new()
    {
        { "/api/v1/connections?page_size=abc", "query parameter page_size (page_size): expected a whole number (int32), got the string \"abc\"" },
        { "/api/v1/connections?pageSize=1.5", "query parameter pageSize (page_size): expected a whole number (int32), got the string \"1.5\"" },
        { "/api/v1/connections?status=SICK", "query parameter status (status): expected one of CONNECTION_STATUS_UNSPECIFIED, " },
        { "/api/v1/connections?status=99", "query parameter status (status): expected one of CONNECTION_STATUS_UNSPECIFIED, " },
        { "/api/v1/connections?client=c1", "query parameter client: unknown field (known: status, clientId, " },
        { "/api/v1/connections?page_size=1&page_size=2", "query parameter page_size (page_size): given 2 times, takes one value" },
        { "/api/v1/watch/connections?status=ACTIVE", "query parameter status (status): expected one of " },
        { "/api/v1/pools/p/servers?limit=5", "query parameter limit: unknown field (known: " },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task A_query_parameter_that_does_not_fit_the_contract_is_a_400_naming_it(string path, string expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.OperatorToken);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(3, body.GetProperty("code").GetInt32());
        Assert.Contains(expected, body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_parameters_that_fit_pass_by_proto_or_JSON_name_and_enum_name_or_number()
    {
        foreach (var path in new[]
        {
            "/api/v1/connections?page_size=5&status=CONNECTION_STATUS_ACTIVE",
            "/api/v1/connections?pageSize=5&clientId=nobody&status=2",
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.OperatorToken);
            using var response = await _http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task A_sidecar_declares_its_server_only_into_a_pool_its_identity_is_granted()
    {
        var denied = $"other-{Guid.NewGuid():N}"[..20];
        var granted = $"mine-{Guid.NewGuid():N}"[..20];
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(10), "sidecar-10");
        await using var _ = stream;
        var declaration = new ServerRegistration { ServerPool = denied, ServerId = "srv-x", Address = "10.0.9.7:5000", Zone = "zone-a", Capacity = 5 };

        await stream.SendAsync(new SidecarMessage { ServerRegistration = declaration });
        var rejected = (await stream.NextAsync())!.Rejected;
        Assert.Equal("PERMISSION_DENIED", rejected.Code);
        Assert.Contains($"pool '{denied}'", rejected.Message, StringComparison.Ordinal);
        Assert.Contains("'mine-*'", rejected.Message, StringComparison.Ordinal);

        // The stream goes on: the granted pool takes the same server, the refused one never got it.
        await stream.SendAsync(new SidecarMessage { ServerRegistration = new ServerRegistration(declaration) { ServerPool = granted } });
        await Eventually.Until(() => f.Pools.ListServersAsync(new ListServersRequest { ServerPool = granted }, Operator).ResponseAsync,
            l => l.Servers.Count == 1);
        Assert.Empty((await f.Pools.ListServersAsync(new ListServersRequest { ServerPool = denied }, Operator)).Servers);
    }

    [Fact]
    public async Task A_sidecar_granted_no_pool_declares_into_none()
    {
        var pool = $"declared-{Guid.NewGuid():N}"; // sidecar-8's grant, not sidecar-7's
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(7), "sidecar-7");
        await using var _ = stream;
        await stream.SendAsync(new SidecarMessage
        {
            ServerRegistration = new ServerRegistration { ServerPool = pool, ServerId = "srv-y", Address = "10.0.9.8:5000", Zone = "zone-a", Capacity = 5 },
        });

        var rejected = (await stream.NextAsync())!.Rejected;
        Assert.Equal("PERMISSION_DENIED", rejected.Code);
        Assert.Contains("grants it no pool", rejected.Message, StringComparison.Ordinal);
        Assert.Empty((await f.Pools.ListServersAsync(new ListServersRequest { ServerPool = pool }, Operator)).Servers);
    }

    [Fact]
    public async Task A_sidecar_reports_sessions_only_of_a_server_in_a_pool_its_identity_is_granted()
    {
        var denied = $"other-{Guid.NewGuid():N}"[..20];
        var granted = $"mine-{Guid.NewGuid():N}"[..20];
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(10), "sidecar-10");
        await using var _ = stream;
        var report = new SessionReport
        {
            ServerPool = denied,
            ServerId = "srv-x",
            ServerAddress = "10.0.9.7:5000",
            Sessions = { new HeldSession { ClientAddress = "10.1.0.7:41000", SignedOnAs = "12345", SignedOn = true } },
        };

        await stream.SendAsync(new SidecarMessage { SessionReport = report });
        var rejected = (await stream.NextAsync())!.Rejected;
        Assert.Equal("PERMISSION_DENIED", rejected.Code);
        Assert.Contains($"server 'srv-x' of pool '{denied}'", rejected.Message, StringComparison.Ordinal);
        Assert.Contains("'mine-*'", rejected.Message, StringComparison.Ordinal);
        var grains = f.Host.Services.GetRequiredService<IGrainFactory>();
        Assert.Null(await grains.GetGrain<IServerSessionsGrain>(IServerSessionsGrain.KeyOf(denied, "srv-x")).GetLastReport()); // nothing written

        // The stream goes on: the same report for a server of a granted pool is taken.
        await stream.SendAsync(new SidecarMessage { SessionReport = new SessionReport(report) { ServerPool = granted } });
        await Eventually.Until(() => grains.GetGrain<IServerSessionsGrain>(IServerSessionsGrain.KeyOf(granted, "srv-x")).GetLastReport(),
            r => r is not null && r.Sessions.Length == 1);
        Assert.Null(await stream.NextAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_sidecar_granted_no_pool_reports_sessions_of_no_server()
    {
        var pool = $"declared-{Guid.NewGuid():N}"; // sidecar-8's grant, not sidecar-7's
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(7), "sidecar-7");
        await using var _ = stream;
        await stream.SendAsync(new SidecarMessage { SessionReport = new SessionReport { ServerPool = pool, ServerId = "srv-y", ServerAddress = "10.0.9.8:5000" } });

        var rejected = (await stream.NextAsync())!.Rejected;
        Assert.Equal("PERMISSION_DENIED", rejected.Code);
        Assert.Contains($"server 'srv-y' of pool '{pool}'", rejected.Message, StringComparison.Ordinal);
        Assert.Contains("grants it no pool", rejected.Message, StringComparison.Ordinal);
        var grains = f.Host.Services.GetRequiredService<IGrainFactory>();
        Assert.Null(await grains.GetGrain<IServerSessionsGrain>(IServerSessionsGrain.KeyOf(pool, "srv-y")).GetLastReport());
        // Still open.
        await stream.HeartbeatAsync("no-such-connection");
        Assert.Equal("NOT_FOUND", (await stream.NextAsync())!.Rejected.Code);
    }

    private static HttpRequestMessage Post(string path, string json, string? token)
    {
        var m = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (token is not null) m.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return m;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The pool grants and their settings, without a gateway.</summary>
public sealed class ServerPoolGrantTests
{
    [Theory]
    [InlineData("visa", "visa", true)]
    [InlineData("visa", "visa-2", false)]
    [InlineData("visa-*", "visa-2", true)]
    [InlineData("visa-*", "mc-1", false)]
    [InlineData("*", "anything", true)]
    public void A_grant_names_a_pool_or_a_prefix(string granted, string pool, bool allowed)
    {
        var grants = new[] { new ServerPoolGrantOptions { Sidecar = "scheme-sc-1", Pools = [granted] } };
        Assert.Equal(allowed, ServerPoolDeclarationHandler.Allows(grants, "scheme-sc-1", pool));
        Assert.False(ServerPoolDeclarationHandler.Allows(grants, "scheme-sc-2", pool));
    }

    [Theory]
    [InlineData("", "visa", "Gateway:Auth:ServerPools:0:Sidecar")]
    [InlineData("sc", "", "Gateway:Auth:ServerPools:0:Pools")]
    [InlineData("sc", "vi*sa", "Gateway:Auth:ServerPools:0:Pools")]
    public void A_bad_grant_stops_start_up_naming_the_setting(string sidecar, string pool, string setting)
    {
        var options = new GatewayOptions { Auth = { ServerPools = [new ServerPoolGrantOptions { Sidecar = sidecar, Pools = [pool] }] } };
        var result = new GatewayOptionsValidator().Validate(null, options);
        Assert.Contains(result.Failures ?? [], m => m.StartsWith(setting, StringComparison.Ordinal));
    }
}

/// <summary>The table covers the contract: no RPC is left without a policy, and every policy named is registered.</summary>
public sealed class PolicyTableTests
{
    [Theory]
    [InlineData(typeof(Services.ControllerGrpcService), typeof(ControllerService.ControllerServiceBase))]
    [InlineData(typeof(Services.ServerPoolGrpcService), typeof(ServerPoolService.ServerPoolServiceBase))]
    [InlineData(typeof(Sidecars.SidecarGrpcService), typeof(SidecarService.SidecarServiceBase))]
    public async Task Every_RPC_carries_a_registered_policy(Type service, Type contract)
    {
        await using var provider = new ServiceCollection().AddAuthorization(GatewayPolicies.Add).BuildServiceProvider();
        var policies = provider.GetRequiredService<IAuthorizationPolicyProvider>();

        var rpcs = contract.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m.IsVirtual).Select(m => m.Name).ToList();
        Assert.NotEmpty(rpcs);
        foreach (var rpc in rpcs)
        {
            var method = service.GetMethod(rpc) ?? throw new InvalidOperationException(rpc);
            Assert.True(method.DeclaringType == service, $"{rpc} is not implemented by {service.Name}");
            var policy = Assert.Single(method.GetCustomAttributes<AuthorizeAttribute>(false)).Policy;
            Assert.True(policy is not null && await policies.GetPolicyAsync(policy) is not null, $"{rpc}: policy '{policy}' is not in the table");
        }
    }
}
