using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace OrleansControl.Hosting;

// One source file compiled into each host (silo, gateway, sidecar host): a validator the options source generator
// writes, with each failure said under the full configuration key.

/// <summary>
/// A generated validator run under its configuration section, each failure said with the full key
/// (<c>Controller:Health:MissedHeartbeatsBeforeFailed must be between 1 and 100</c>): the generator names a setting
/// <c>{name}.{Member}</c> after the member list, so the section goes in as the name and the dots become the binder's colons.
/// </summary>
internal sealed class KeyedValidator<TOptions>(string section, IValidateOptions<TOptions> generated) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var result = generated.Validate(section, options);
        return result.Failed ? ValidateOptionsResult.Fail(result.Failures.Select(f => SettingKeys.Keyed(section, f))) : result;
    }
}

internal static partial class SettingKeys
{
    private static readonly string Unbounded = TimeSpan.MaxValue.ToString();

    /// <summary>"Member: The field Section.A.B must be between 1 and 20." as "Section:A:B must be 1..20".</summary>
    public static string Keyed(string section, string failure)
    {
        var text = MemberList().Replace(failure, "", 1);
        text = Regex.Replace(text, Regex.Escape(section) + @"((?:\.\w+)+)", m => section + m.Groups[1].Value.Replace('.', ':'));
        // The generator's [Range] says it one way whatever ErrorMessage asks for: said shorter, durations as people write them.
        return RangeWording().Match(text) is not { Success: true } range ? text
            : range.Groups["max"].Value == Unbounded ? $"{range.Groups["key"].Value} must be at least {Human(range.Groups["min"].Value)}"
            : $"{range.Groups["key"].Value} must be {Human(range.Groups["min"].Value)}..{Human(range.Groups["max"].Value)}";
    }

    private static string Human(string bound) =>
        !bound.Contains(':', StringComparison.Ordinal) || !TimeSpan.TryParse(bound, System.Globalization.CultureInfo.InvariantCulture, out var t) ? bound
        : t < TimeSpan.FromSeconds(1) ? $"{t.TotalMilliseconds:0.###} ms"
        : t < TimeSpan.FromMinutes(1) ? $"{t.TotalSeconds:0.###} s"
        : t < TimeSpan.FromHours(1) && t.Seconds == 0 ? $"{t.TotalMinutes:0} min"
        : t.ToString("c", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The "Member: " (or "A, B: ") the options builder puts before a data annotation's message.</summary>
    [GeneratedRegex(@"^\w+(?:, \w+)*: ")]
    private static partial Regex MemberList();

    [GeneratedRegex(@"^The field (?<key>\S+) must be between (?<min>.+) and (?<max>.+)\.$")]
    private static partial Regex RangeWording();
}
