using System.Text;
using System.Text.Json;
using OrleansControl.Contract.V1;

namespace OrleansControl.Occtl.Output;

/// <summary>
/// One event, one line: <c>2026-12-01T10:00:00.123Z conn-1 ACTIVE->MIGRATING v8 server=srv-a target=srv-b
/// sidecar=sc-1 region=bank score=40 reason="failover to srv-b: drain"</c>. Empty fields are left out.
/// </summary>
internal static class EventLines
{
    public static string Format(ConnectionEvent e)
    {
        var c = e.Connection ?? new Connection();
        var b = new StringBuilder();
        b.Append(Names.Time(e.At ?? c.UpdatedAt)).Append(' ').Append(c.ConnectionId).Append(' ');
        b.Append(e.PreviousStatus == c.Status ? Names.Of(c.Status) : $"{Names.Of(e.PreviousStatus)}->{Names.Of(c.Status)}");
        b.Append(" v").Append(c.Version);
        Field(b, "client", c.ClientId);
        Field(b, "server", c.ServerId);
        Field(b, "target", c.FailoverTarget);
        Field(b, "sidecar", c.SidecarId);
        Field(b, "region", c.Region);
        b.Append(" score=").Append(c.HealthScore);
        if (e.Reason.Length > 0) b.Append(" reason=").Append(JsonSerializer.Serialize(e.Reason));
        return b.ToString();
    }

    private static void Field(StringBuilder b, string name, string value)
    {
        if (value.Length > 0) b.Append(' ').Append(name).Append('=').Append(value);
    }
}
