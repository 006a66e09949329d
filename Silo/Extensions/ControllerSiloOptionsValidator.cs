using Microsoft.Extensions.Options;
using OrleansControl.Grains.Connections;
using OrleansControl.Grains.Pools;
using OrleansControl.Hosting;

namespace OrleansControl.Silo.Extensions;

/// <summary>
/// The controller's sections, each by a validator the options source generator writes (SettingValidators.cs):
/// every failure names the configuration key, so a bad deployment says exactly what to fix.
/// </summary>
public sealed class ControllerSiloOptionsValidator
    : IValidateOptions<ControllerSiloOptions>, IValidateOptions<ConnectionHealthOptions>, IValidateOptions<ServerEjectionOptions>
{
    // Generated from the options' annotations and IValidatableObject: every bad setting of the section at once, each with its full key.
    private static readonly KeyedValidator<ControllerSiloOptions> Controller = new(ControllerSiloOptions.Section, new ControllerSiloOptionsGeneratedValidator());
    private static readonly KeyedValidator<ConnectionHealthOptions> Health = new(ConnectionHealthOptions.Section, new ConnectionHealthOptionsValidator());
    private static readonly KeyedValidator<ServerEjectionOptions> Ejection = new(ServerEjectionOptions.Section, new ServerEjectionOptionsValidator());

    public ValidateOptionsResult Validate(string? name, ControllerSiloOptions o) => Controller.Validate(name, o);

    public ValidateOptionsResult Validate(string? name, ConnectionHealthOptions o) => Health.Validate(name, o);

    public ValidateOptionsResult Validate(string? name, ServerEjectionOptions o) => Ejection.Validate(name, o);
}
