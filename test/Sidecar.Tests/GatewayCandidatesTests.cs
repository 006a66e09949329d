using System.Net;
using OrleansControl.Sidecar.Agent;

namespace OrleansControl.Sidecar.Tests;

public sealed class GatewayCandidatesTests
{
    [Fact]
    public async Task A_configured_name_that_resolves_to_several_addresses_is_one_candidate_per_address_then_the_learned_ones_follow()
    {
        var resolved = new Dictionary<string, IPAddress[]>
        {
            ["gw-headless.controller.svc"] = [IPAddress.Parse("10.0.0.7"), IPAddress.Parse("10.0.0.8")],
            ["gw-one.example"] = [IPAddress.Parse("10.0.1.1")],
        };
        var candidates = new GatewayCandidates(["https://gw-headless.controller.svc:9090", "https://gw-one.example:9090", "http://10.0.2.2:9090"],
            (host, _) => Task.FromResult(resolved[host]));
        candidates.Learn(["https://10.0.0.9:9090", "http://10.0.2.2:9090/", "not a uri", "https://10.0.0.9:9090"]);

        var list = await candidates.ListAsync(CancellationToken.None);

        Assert.Equal(
            ["https://gw-headless.controller.svc:9090 (10.0.0.7)", "https://gw-headless.controller.svc:9090 (10.0.0.8)",
             "https://gw-one.example:9090", "http://10.0.2.2:9090", "https://10.0.0.9:9090"],
            list.Select(c => c.ToString()));
        Assert.Equal(["https://10.0.0.9:9090", "http://10.0.2.2:9090/"], candidates.Learned);
    }

    [Fact]
    public async Task A_name_that_does_not_resolve_stays_a_candidate_and_a_new_list_replaces_the_learned_one()
    {
        var candidates = new GatewayCandidates(["http://gw.invalid:9090"],
            (_, _) => Task.FromException<IPAddress[]>(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound)));
        candidates.Learn(["http://127.0.0.1:1", "http://127.0.0.1:2"]);
        candidates.Learn(["http://127.0.0.1:2"]);

        var list = await candidates.ListAsync(CancellationToken.None);

        Assert.Equal(["http://gw.invalid:9090", "http://127.0.0.1:2"], list.Select(c => c.ToString()));
    }
}
