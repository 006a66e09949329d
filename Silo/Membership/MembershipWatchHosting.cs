using Microsoft.Extensions.Options;

namespace OrleansControl.Silo.Membership;

public static class MembershipWatchHosting
{
    /// <summary>The membership watch (readiness and exit on a lost table), options from <c>Controller:MembershipWatch</c>.</summary>
    public static IServiceCollection AddMembershipTableWatch(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<MembershipWatchOptions>>(new MembershipWatchOptionsValidator());
        services.AddOptions<MembershipWatchOptions>().BindConfiguration(MembershipWatchOptions.Section).ValidateOnStart();
        services.AddSingleton<MembershipTableWatch>();
        services.AddHostedService(sp => sp.GetRequiredService<MembershipTableWatch>());
        return services;
    }

    private sealed class MembershipWatchOptionsValidator : IValidateOptions<MembershipWatchOptions>
    {
        public ValidateOptionsResult Validate(string? name, MembershipWatchOptions o) =>
            o.FindProblem() is { } problem
                ? ValidateOptionsResult.Fail($"{MembershipWatchOptions.Section}:{problem}")
                : ValidateOptionsResult.Success;
    }
}
