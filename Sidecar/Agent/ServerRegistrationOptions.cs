using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Sidecar.Agent;

/// <summary>
/// Server mode (<c>Sidecar:Agent:Server</c>): the sidecar stands beside a scheme server and declares it to its
/// controller on every attach (pool, id, address, zone, capacity), so a controller restarted on memory relearns its
/// pools from the sidecars. Such a sidecar registers no client connection and sends no heartbeats for one.
/// </summary>
public sealed class ServerRegistrationOptions
{
    /// <summary>The server's id in its pool; empty: not server mode.</summary>
    public string? ServerId { get; set; }

    /// <summary>host:port where clients reach the server (what the pool hands out).</summary>
    public string? Address { get; set; }

    public string Zone { get; set; } = "default";

    /// <summary>Connections the server takes (1..100000).</summary>
    public int Capacity { get; set; } = 1000;

    /// <summary>The pool it serves; <see cref="SidecarAgentOptions.ServerPool"/> when empty.</summary>
    public string? Pool { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(ServerId);

    public IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            yield break;
        }

        if (!IsoEndpoint.TryParse(Address, out _))
        {
            yield return $"Server:Address must be host:port where clients reach server {ServerId} ('{Address}' is not)";
        }

        if (Capacity is < 1 or > 100_000)
        {
            yield return "Server:Capacity must be 1..100000";
        }

        foreach (var (name, value) in new[] { ("Server:ServerId", ServerId), ("Server:Zone", Zone), ("Server:Pool", Pool ?? "x") })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Length > 128 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                yield return $"{name} must be 1..128 characters of [A-Za-z0-9._:-]";
            }
        }
    }
}
