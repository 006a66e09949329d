using System.Buffers.Text;
using System.Text;
using OrleansControl.Gateway.Errors;

namespace OrleansControl.Gateway.Services;

/// <summary>
/// ListConnections' page tokens: opaque to callers (base64url of a versioned cursor, the last connection id of the
/// previous page) and checked on the way in, so a token this gateway never issued is INVALID_ARGUMENT, not page 1.
/// </summary>
internal static class PageTokens
{
    private const string Version = "c1:";

    public static string Encode(string? lastConnectionId) =>
        lastConnectionId is null ? "" : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Version + lastConnectionId));

    /// <summary>The cursor, or null for the first page (no token).</summary>
    public static string? Decode(string? token, string field)
    {
        if (string.IsNullOrEmpty(token)) return null;
        if (token.Length <= 256 && Base64Url.IsValid(token))
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            if (text.StartsWith(Version, StringComparison.Ordinal) && RequestValidation.IsWellFormedId(text[Version.Length..]))
                return text[Version.Length..];
        }
        throw GatewayErrors.InvalidArgument(field, "is not a token from a previous page (pass next_page_token back unchanged, or none for the first page)");
    }
}
