using System.Net;

namespace OrleansControl.Sidecar.Agent;

/// <summary>One gateway to try: its address, and the IP to connect to when the address's name resolved to several.</summary>
/// <param name="Pinned">Null: let the name resolve at connect time. Set: connect there (TLS still checks the name).</param>
public sealed record GatewayCandidate(string Address, IPAddress? Pinned)
{
    public string Key => Pinned is null ? Address : $"{Address}@{Pinned}";

    public override string ToString() => Pinned is null ? Address : $"{Address} ({Pinned})";
}

/// <summary>
/// The gateways the agent tries, in order: the configured ones first (they stay, whatever the cluster says), each
/// configured name that resolves to several addresses (a Kubernetes headless Service) as one candidate per address,
/// then the live gateways the controller told it about (Attached.gateways, GatewayList) that are not configured.
/// Resolved anew on every call, so a Service whose pods changed is followed.
/// </summary>
public sealed class GatewayCandidates(IReadOnlyList<string> configured, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
{
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve = resolve ?? ((host, ct) => Dns.GetHostAddressesAsync(host, ct));
    private volatile string[] _learned = [];

    public IReadOnlyList<string> Learned => _learned;

    /// <summary>The controller's current list of live gateways (replaces the previous one; malformed entries are ignored).</summary>
    public void Learn(IEnumerable<string> addresses) =>
        _learned = [.. addresses.Where(a => Uri.TryCreate(a, UriKind.Absolute, out var u) && u.Scheme is "http" or "https").Distinct(StringComparer.OrdinalIgnoreCase)];

    public async Task<IReadOnlyList<GatewayCandidate>> ListAsync(CancellationToken ct)
    {
        var list = new List<GatewayCandidate>();
        foreach (var address in configured)
        {
            var uri = new Uri(address);
            IPAddress[] resolved = [];
            if (uri.HostNameType == UriHostNameType.Dns)
            {
                try
                {
                    resolved = await _resolve(uri.DnsSafeHost, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ArgumentException)
                {
                    // Not resolvable now: the name itself stays a candidate (it may resolve at connect time).
                }
            }
            if (resolved.Length > 1)
                list.AddRange(resolved.Distinct().Select(ip => new GatewayCandidate(address, ip)));
            else
                list.Add(new GatewayCandidate(address, null));
        }
        var known = list.Select(c => Normalize(c.Address)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var learned in _learned)
        {
            if (known.Add(Normalize(learned)))
                list.Add(new GatewayCandidate(learned, null));
        }
        return list;
    }

    private static string Normalize(string address) => new Uri(address).GetLeftPart(UriPartial.Authority).TrimEnd('/');
}
