using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace OrleansControl.Gateway.Ui;

/// <summary>The web view at <c>/ui</c> (section <c>Gateway:Ui</c>, docs/ui.md).</summary>
public sealed class UiOptions : IValidatableObject
{
    public const string SectionName = "Gateway:Ui";

    /// <summary>Serve the page and its read-only API on the REST port.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the server pushes a fresh view to each open page (the page itself never polls).</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:01:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Pools shown even before a connection names them (the contract has no call that lists pools; the view shows
    /// these and every pool a connection is in).
    /// </summary>
    public List<string> Pools { get; set; } = [];

    /// <summary>
    /// Connections whose full state (transactions per second) is read on each refresh; the rest show their listing
    /// row only, so a large registry does not cost one grain call per row per second.
    /// </summary>
    [Range(0, 10_000)]
    public int MaxDetailedConnections { get; set; } = 200;

    /// <summary>Rows the view lists at most.</summary>
    [Range(1, 100_000)]
    public int MaxConnections { get; set; } = 2_000;

    /// <summary>The rules [Range] cannot say.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Pools.Any(string.IsNullOrWhiteSpace))
            yield return new ValidationResult($"{SectionName}:Pools must not contain an empty name");
    }
}

/// <summary>Written by the options source generator from the annotations above (and <see cref="UiOptions.Validate"/>).</summary>
[OptionsValidator]
internal sealed partial class UiOptionsValidator : IValidateOptions<UiOptions>
{
    /// <summary>The generated validator under <c>Gateway:Ui</c>, for start-up and for the settings check alike.</summary>
    public static readonly IValidateOptions<UiOptions> Keyed = new OrleansControl.Hosting.KeyedValidator<UiOptions>(UiOptions.SectionName, new UiOptionsValidator());
}
