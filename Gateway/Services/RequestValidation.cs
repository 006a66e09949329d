using Google.Protobuf.Collections;
using OrleansControl.Gateway.Errors;

namespace OrleansControl.Gateway.Services;

/// <summary>Field checks shared by the services; each failure is INVALID_ARGUMENT naming the proto field.</summary>
internal static class RequestValidation
{
    public const int MaxIdLength = 128;
    public const int MaxReasonLength = 512;
    public const int MaxAddressLength = 256;
    public const int MaxMetadataEntries = 32;
    public const double MaxEchoRttMs = 60_000;
    public const uint MaxCountPerReport = 1_000_000;

    /// <summary>Metadata keys with this prefix are the gateway's own (owning sidecar, region).</summary>
    public const string ReservedMetadataPrefix = "oc.";

    public static string Id(string? value, string field)
    {
        if (string.IsNullOrEmpty(value)) throw GatewayErrors.InvalidArgument(field, "is required");
        if (!IsWellFormedId(value))
            throw GatewayErrors.InvalidArgument(field, $"must be 1..{MaxIdLength} characters of A-Z a-z 0-9 . _ : -");
        return value;
    }

    public static string? OptionalId(string? value, string field) => string.IsNullOrEmpty(value) ? null : Id(value, field);

    public static bool IsWellFormedId(string value)
    {
        if (value.Length is 0 or > MaxIdLength) return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-')) return false;
        }
        return true;
    }

    public const int MaxSessionsPerReport = 100_000;

    /// <summary>What is wrong with a server sidecar's session report (null: nothing), naming the field under <paramref name="field"/>.</summary>
    public static string? SessionReportProblem(Contract.V1.SessionReport report, string field)
    {
        if (!IsWellFormedId(report.ServerPool) || !IsWellFormedId(report.ServerId))
            return $"{field}.server_pool/server_id: must be well-formed ids";
        if (report.Sessions.Count > MaxSessionsPerReport)
            return $"{field}.sessions: at most {MaxSessionsPerReport} per report";
        if (report.ServerAddress.Length > MaxAddressLength
            || report.Sessions.Any(s => s.ClientAddress.Length is 0 || s.ClientAddress.Length > MaxAddressLength || s.SignedOnAs.Length > 128))
            return $"{field}.sessions[].client_address: required, at most {MaxAddressLength} characters (signed_on_as at most 128)";
        return null;
    }

    public static string Text(string? value, string field, bool required, int max = MaxReasonLength)
    {
        value ??= "";
        if (required && string.IsNullOrWhiteSpace(value)) throw GatewayErrors.InvalidArgument(field, "is required");
        if (value.Length > max) throw GatewayErrors.InvalidArgument(field, $"must be at most {max} characters");
        return value;
    }

    public static void EchoRtt(double value, string field)
    {
        if (!double.IsFinite(value) || value < 0 || value > MaxEchoRttMs)
            throw GatewayErrors.InvalidArgument(field, $"must be between 0 and {MaxEchoRttMs} ms");
    }

    public static int Count(uint value, string field)
    {
        if (value > MaxCountPerReport) throw GatewayErrors.InvalidArgument(field, $"must be at most {MaxCountPerReport}");
        return (int)value;
    }

    public static void Metadata(MapField<string, string> metadata, string field)
    {
        if (metadata.Count > MaxMetadataEntries)
            throw GatewayErrors.InvalidArgument(field, $"must have at most {MaxMetadataEntries} entries");
        foreach (var (key, value) in metadata)
        {
            if (key.Length is 0 or > 64) throw GatewayErrors.InvalidArgument(field, "keys must be 1..64 characters");
            if (key.StartsWith(ReservedMetadataPrefix, StringComparison.Ordinal))
                throw GatewayErrors.InvalidArgument(field, $"key '{key}' uses the reserved prefix '{ReservedMetadataPrefix}'");
            if (value.Length > 256) throw GatewayErrors.InvalidArgument(field, $"value of '{key}' must be at most 256 characters");
        }
    }

    public static T DefinedEnum<T>(T value, string field, bool allowUnspecified) where T : struct, Enum
    {
        if (!Enum.IsDefined(value)) throw GatewayErrors.InvalidArgument(field, $"unknown value {Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)}");
        if (!allowUnspecified && Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture) == 0)
            throw GatewayErrors.InvalidArgument(field, "is required (must not be UNSPECIFIED)");
        return value;
    }
}
