using OrleansControl.Contract.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace OrleansControl.Occtl.Output;

/// <summary>kubectl-like tables: no borders, one row per line, upper-case headers; cells are text, never markup.</summary>
internal static class Tables
{
    public static Table New(params string[] headers)
    {
        var table = new Table().Border(TableBorder.None).HideRowSeparators();
        foreach (var h in headers) table.AddColumn(new TableColumn(new Text(h, new Style(decoration: Decoration.Bold))).NoWrap().PadLeft(0).PadRight(2));
        return table;
    }

    /// <summary>
    /// Writes a table (or grid) to standard output with the console's colours and width but without the padding
    /// Spectre leaves at the end of each line, so a script's <c>awk '{print $NF}'</c> gets the last column.
    /// </summary>
    public static void Print(OcctlHost host, IRenderable renderable)
    {
        var capabilities = host.Console.Profile.Capabilities;
        var buffer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = capabilities.Ansi ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = (ColorSystemSupport)(int)capabilities.ColorSystem,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(buffer),
        });
        console.Profile.Width = host.Console.Profile.Width;
        console.Write(renderable);
        foreach (var line in buffer.ToString().TrimEnd('\n').Split('\n')) host.Output.WriteLine(line.TrimEnd());
        host.Output.Flush();
    }

    public static IRenderable Cell(string? value) => new Text(Names.OrDash(value));

    /// <summary>A status in its colour (when the terminal has colours): what an operator scans a table for.</summary>
    public static IRenderable Status(ConnectionStatus status) => new Text(Names.Of(status), new Style(status switch
    {
        ConnectionStatus.Active => Color.Green,
        ConnectionStatus.Degraded => Color.Yellow,
        ConnectionStatus.Failed => Color.Red,
        ConnectionStatus.Migrating => Color.Blue,
        _ => Color.Default,
    }));

    public static readonly string[] ConnectionHeaders =
        ["CONNECTION", "CLIENT", "POOL", "SERVER", "STATUS", "SCORE", "TARGET", "SIDECAR", "REGION", "VERSION", "UPDATED", "DETAIL"];

    public static IRenderable[] ConnectionRow(Connection c, DateTimeOffset now) =>
    [
        Cell(c.ConnectionId), Cell(c.ClientId), Cell(c.ServerPool), Cell(c.ServerId), Status(c.Status),
        Cell(c.HealthScore.ToString()), Cell(c.FailoverTarget), Cell(c.SidecarId), Cell(c.Region), Cell(c.Version.ToString()),
        Cell(Names.Age(c.UpdatedAt, now)), Cell(c.StatusDetail),
    ];

    public static readonly string[] ServerHeaders =
        ["SERVER", "ADDRESS", "ZONE", "LOAD", "CAPACITY", "STATE", "EJECTED-UNTIL", "DETAIL"];

    public static IRenderable[] ServerRow(ServerInstance s) =>
    [
        Cell(s.ServerId), Cell(s.Address), Cell(s.Zone), Cell(s.Load.ToString()), Cell(s.Capacity.ToString()),
        new Text(State(s), new Style(s.Healthy ? Color.Green : s.Suspect ? Color.Yellow : Color.Red)),
        Cell(s.EjectedUntil is null ? null : Names.Time(s.EjectedUntil)), Cell(s.HealthDetail),
    ];

    /// <summary>
    /// The contract says healthy (declared healthy and not ejected) and suspect (ejected on evidence); a server that
    /// is neither was declared DEGRADED or UNHEALTHY, and the contract does not say which.
    /// </summary>
    public static string State(ServerInstance s) => s.Healthy ? "healthy" : s.Suspect ? "suspect" : "degraded/unhealthy";
}
