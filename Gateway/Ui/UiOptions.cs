namespace OrleansControl.Gateway.Ui;

/// <summary>The web view at <c>/ui</c> (section <c>Gateway:Ui</c>, docs/ui.md).</summary>
public sealed class UiOptions
{
    public const string SectionName = "Gateway:Ui";

    /// <summary>Serve the page and its read-only API on the REST port.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the server pushes a fresh view to each open page (the page itself never polls).</summary>
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
    public int MaxDetailedConnections { get; set; } = 200;

    /// <summary>Rows the view lists at most.</summary>
    public int MaxConnections { get; set; } = 2_000;

    internal IEnumerable<string> Validate()
    {
        if (RefreshInterval < TimeSpan.FromMilliseconds(100) || RefreshInterval > TimeSpan.FromMinutes(1))
            yield return $"{SectionName}:RefreshInterval must be between 00:00:00.1 and 00:01:00 (is {RefreshInterval})";
        if (MaxDetailedConnections is < 0 or > 10_000)
            yield return $"{SectionName}:MaxDetailedConnections must be between 0 and 10000 (is {MaxDetailedConnections})";
        if (MaxConnections is < 1 or > 100_000)
            yield return $"{SectionName}:MaxConnections must be between 1 and 100000 (is {MaxConnections})";
        foreach (var pool in Pools.Where(string.IsNullOrWhiteSpace))
            yield return $"{SectionName}:Pools must not contain an empty name";
    }
}

internal sealed class UiOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<UiOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, UiOptions options)
    {
        var errors = options.Validate().ToList();
        return errors.Count == 0
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Success
            : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(errors);
    }
}
