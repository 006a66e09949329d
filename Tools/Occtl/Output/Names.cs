using Google.Protobuf.WellKnownTypes;
using OrleansControl.Contract.V1;

namespace OrleansControl.Occtl.Output;

/// <summary>The words occtl prints and accepts for the contract's enums and times.</summary>
internal static class Names
{
    public static readonly string[] Statuses = ["requested", "active", "degraded", "failed", "migrating", "closed"];

    public static string Of(ConnectionStatus status) => status == ConnectionStatus.Unspecified ? "-" : status.ToString().ToUpperInvariant();

    public static string Of(ServerHealth health) => health.ToString().ToUpperInvariant();

    /// <summary>active, ACTIVE or CONNECTION_STATUS_ACTIVE; null for an empty value.</summary>
    public static ConnectionStatus? ParseStatus(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var name = text.StartsWith("CONNECTION_STATUS_", StringComparison.OrdinalIgnoreCase) ? text["CONNECTION_STATUS_".Length..] : text;
        return System.Enum.TryParse<ConnectionStatus>(name, ignoreCase: true, out var status) && status != ConnectionStatus.Unspecified
            ? status
            : throw new OcctlException(ExitCodes.Usage, $"--status: '{text}' is not one of {string.Join(", ", Statuses)}");
    }

    public static string Time(Timestamp? at) => at is null ? "-" : at.ToDateTimeOffset().ToString("yyyy-MM-ddTHH:mm:ss.fffZ");

    /// <summary>How long ago, as kubectl prints ages: 4s, 3m, 2h, 5d.</summary>
    public static string Age(Timestamp? at, DateTimeOffset now)
    {
        if (at is null) return "-";
        var age = now - at.ToDateTimeOffset();
        if (age < TimeSpan.Zero) age = TimeSpan.Zero;
        return age.TotalSeconds < 120 ? $"{(int)age.TotalSeconds}s"
            : age.TotalMinutes < 120 ? $"{(int)age.TotalMinutes}m"
            : age.TotalHours < 48 ? $"{(int)age.TotalHours}h"
            : $"{(int)age.TotalDays}d";
    }

    public static string OrDash(string? value) => string.IsNullOrEmpty(value) ? "-" : value;
}
