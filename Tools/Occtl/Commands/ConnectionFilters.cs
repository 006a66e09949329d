using System.CommandLine;
using OrleansControl.Occtl.Output;
using Spectre.Console;

namespace OrleansControl.Occtl.Commands;

/// <summary>The filter options of the listing and of the event stream.</summary>
internal static class ConnectionFilters
{
    public static Option<string?> Status(string description) => new Option<string?>("--status")
    {
        Description = description,
        HelpName = string.Join('|', Names.Statuses),
    }.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, Names.Statuses);

    public static Option<string?> Id(string name, string description, string helpName) => new(name) { Description = description, HelpName = helpName };
}
