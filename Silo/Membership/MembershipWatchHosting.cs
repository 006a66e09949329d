using Microsoft.Extensions.Options;

namespace OrleansControl.Silo.Membership;

public static class MembershipWatchHosting
{
    /// <summary>Each setting's range and the rule between them, every failure named with its full key.</summary>
    internal static readonly IValidateOptions<MembershipWatchOptions> Validator =
        new OrleansControl.Hosting.KeyedValidator<MembershipWatchOptions>(MembershipWatchOptions.Section, new Extensions.MembershipWatchOptionsValidator());

    /// <summary>The membership watch (readiness and exit on a lost table), options from <c>Controller:MembershipWatch</c>.</summary>
    public static IServiceCollection AddMembershipTableWatch(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<MembershipWatchOptions>>(Validator);
        services.AddOptions<MembershipWatchOptions>().BindConfiguration(MembershipWatchOptions.Section).ValidateOnStart();
        services.AddSingleton<MembershipTableWatch>();
        services.AddHostedService(sp => sp.GetRequiredService<MembershipTableWatch>());
        return services;
    }
}
