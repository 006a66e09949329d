using Microsoft.Extensions.Options;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Relay;

namespace OrleansControl.Sidecar.Hosting;

internal sealed class IsoClientOptionsValidator : IValidateOptions<IsoClientOptions>
{
    public ValidateOptionsResult Validate(string? name, IsoClientOptions options) => Result(options.Validate());

    internal static ValidateOptionsResult Result(IEnumerable<string> errors)
    {
        var list = errors.ToList();
        return list.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(list);
    }
}

internal sealed class SidecarAgentOptionsValidator : IValidateOptions<SidecarAgentOptions>
{
    public ValidateOptionsResult Validate(string? name, SidecarAgentOptions options) => IsoClientOptionsValidator.Result(options.Validate());
}

internal sealed class RelayOptionsValidator : IValidateOptions<RelayOptions>
{
    public ValidateOptionsResult Validate(string? name, RelayOptions options) =>
        options.Enabled ? IsoClientOptionsValidator.Result(options.Validate()) : ValidateOptionsResult.Success;
}
