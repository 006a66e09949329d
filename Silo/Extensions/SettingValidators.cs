using Microsoft.Extensions.Options;
using OrleansControl.Grains.Connections;
using OrleansControl.Grains.Pools;
using OrleansControl.Silo.Membership;

namespace OrleansControl.Silo.Extensions;

// Validators generated from the options' data annotations ([Range] on each setting, IValidatableObject for the rules
// between settings); the Microsoft.Extensions.Options source generator writes their bodies.
[OptionsValidator]
internal sealed partial class ControllerSiloOptionsGeneratedValidator : IValidateOptions<ControllerSiloOptions>;

[OptionsValidator]
internal sealed partial class ConnectionHealthOptionsValidator : IValidateOptions<ConnectionHealthOptions>;

[OptionsValidator]
internal sealed partial class ServerEjectionOptionsValidator : IValidateOptions<ServerEjectionOptions>;

[OptionsValidator]
internal sealed partial class MembershipWatchOptionsValidator : IValidateOptions<MembershipWatchOptions>;
