using Microsoft.Extensions.Options;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Relay;

namespace OrleansControl.Sidecar.Hosting;

// The options classes say what is wrong relative to themselves ("EchoInterval must be 1 s..5 min"), as a program that
// builds them in code reads best; bound from configuration, each failure names the full key (Sidecar:Link:EchoInterval).
internal sealed class IsoClientOptionsValidator : IValidateOptions<IsoClientOptions>
{
    public ValidateOptionsResult Validate(string? name, IsoClientOptions options) => Result(IsoClientOptions.Section, options.Validate());

    internal static ValidateOptionsResult Result(string section, IEnumerable<string> errors)
    {
        var list = errors.Select(e => e.StartsWith("Sidecar:", StringComparison.Ordinal) ? e : $"{section}:{e}").ToList();
        return list.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(list);
    }
}

internal sealed class SidecarAgentOptionsValidator : IValidateOptions<SidecarAgentOptions>
{
    public ValidateOptionsResult Validate(string? name, SidecarAgentOptions options) =>
        IsoClientOptionsValidator.Result(SidecarAgentOptions.Section, options.Validate());
}

internal sealed class RelayOptionsValidator : IValidateOptions<RelayOptions>
{
    public ValidateOptionsResult Validate(string? name, RelayOptions options) =>
        options.Enabled ? IsoClientOptionsValidator.Result(RelayOptions.Section, options.Validate()) : ValidateOptionsResult.Success;
}
