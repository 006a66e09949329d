using Microsoft.Extensions.Options;
using OrleansControl.Hosting;

namespace OrleansControl.Gateway.Hosting;

/// <summary>
/// Refuses start-up on settings that would be unsafe or cannot work, every one at once, each under its full key:
/// written by the options source generator from <see cref="GatewayOptions"/>' annotations ([Range] on ports and
/// intervals) and its <see cref="GatewayOptions.Validate"/> (the rules between settings).
/// </summary>
[OptionsValidator]
internal sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    /// <summary>The generated validator under <c>Gateway</c>: "Gateway:GrpcPort must be 0..65535".</summary>
    public static readonly IValidateOptions<GatewayOptions> Keyed = new KeyedValidator<GatewayOptions>(GatewayOptions.SectionName, new GatewayOptionsValidator());
}
