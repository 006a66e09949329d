using System.CommandLine;
using OrleansControl.Occtl.Config;
using OrleansControl.Occtl.Output;

namespace OrleansControl.Occtl;

/// <summary>The options every command takes: where the gateway is, how to authenticate, how to print.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Gateway { get; } = new("--gateway")
    {
        Description = "Gateway gRPC address, e.g. https://controller.bank.example:9090 [env OCCTL_GATEWAY; default http://127.0.0.1:9090]",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "Bearer token [env OCCTL_TOKEN; prefer --token-file, a command line is visible to other users]",
        Recursive = true,
    };

    public Option<string?> TokenFile { get; } = new("--token-file")
    {
        Description = "File holding the bearer token [env OCCTL_TOKEN_FILE]",
        HelpName = "path",
        Recursive = true,
    };

    public Option<string?> Certificate { get; } = new("--cert")
    {
        Description = "Client certificate with its key (PFX); CN = identity, OU = role [env OCCTL_CERT]",
        HelpName = "pfx",
        Recursive = true,
    };

    public Option<string?> CertificatePassword { get; } = new("--cert-password")
    {
        Description = "Password of the PFX [env OCCTL_CERT_PASSWORD]",
        Recursive = true,
    };

    public Option<string?> TrustedCa { get; } = new("--ca")
    {
        Description = "PEM bundle of the private CA that signed the gateway's certificate [env OCCTL_CA]",
        HelpName = "pem",
        Recursive = true,
    };

    public Option<string?> Context { get; } = new("--context")
    {
        Description = "Context of the config file to use instead of its current one [env OCCTL_CONTEXT]",
        HelpName = "name",
        Recursive = true,
    };

    public Option<string?> ConfigFile { get; } = new("--config")
    {
        Description = "Config file [env OCCTL_CONFIG; default ~/.config/occtl/config.json]",
        HelpName = "path",
        Recursive = true,
    };

    public Option<TimeSpan?> RequestTimeout { get; } = new("--request-timeout")
    {
        Description = "Deadline of each call: 500ms, 10s, 1m [env OCCTL_REQUEST_TIMEOUT; default 10s]",
        HelpName = "duration",
        Recursive = true,
        CustomParser = r => Durations.TryParse(r.Tokens.Single().Value, out var d) ? d : Fail<TimeSpan?>(r, "--request-timeout"),
    };

    public Option<string> Output { get; } = new Option<string>("--output", "-o")
    {
        Description = "How to print: table (for people), json or yaml (for scripts; proto3 JSON field names, as REST /api/v1 answers)",
        HelpName = "table|json|yaml",
        Recursive = true,
        DefaultValueFactory = _ => "table",
    }.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "table", "json", "yaml");

    public OutputFormat OutputOf(ParseResult parse) => parse.GetValue(Output)?.ToLowerInvariant() switch
    {
        "json" => OutputFormat.Json,
        "yaml" => OutputFormat.Yaml,
        _ => OutputFormat.Table,
    };

    public IEnumerable<Option> All => [Gateway, Token, TokenFile, Certificate, CertificatePassword, TrustedCa, Context, ConfigFile, RequestTimeout, Output];

    /// <summary>A command's own duration (<c>30s</c>, <c>5m</c>); null when not given, so help shows the default as typed.</summary>
    public static Option<TimeSpan?> Duration(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = $"{description} (default {Durations.Format(defaultValue)})",
        HelpName = "duration",
        CustomParser = r => Durations.TryParse(r.Tokens.Single().Value, out var d) ? d : Fail<TimeSpan?>(r, name),
    };

    private static T Fail<T>(System.CommandLine.Parsing.ArgumentResult r, string name)
    {
        r.AddError($"{name}: '{r.Tokens.Single().Value}' is not a duration (e.g. 500ms, 10s, 5m, 1h)");
        return default!;
    }
}
