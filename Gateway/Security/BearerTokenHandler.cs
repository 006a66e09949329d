using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Gateway.Hosting;

namespace OrleansControl.Gateway.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;token&gt;</c> against the configured SHA-256 hashes.
/// The token itself is never stored or logged. A caller presenting nothing is, on a development gateway
/// (<c>Gateway:Auth:AllowAnonymous</c>), the development caller with every role; elsewhere not authenticated.
/// </summary>
internal sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<GatewayOptions> gateway)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "GatewayBearer";

    private readonly Dictionary<string, BearerTokenOptions> _byHash = gateway.Value.Auth.Tokens
        .ToDictionary(t => t.Sha256.ToLowerInvariant(), StringComparer.Ordinal);

    private readonly bool _anonymousAllowed = gateway.Value.AnonymousAllowed;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return Task.FromResult(_anonymousAllowed
                ? AuthenticateResult.Success(new AuthenticationTicket(Caller.DevelopmentPrincipal(SchemeName), SchemeName))
                : AuthenticateResult.NoResult());
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Task.FromResult(AuthenticateResult.Fail("unsupported authorization scheme"));

        var token = header.AsSpan(7).Trim();
        if (!_byHash.TryGetValue(Hash(token), out var entry))
            return Task.FromResult(AuthenticateResult.Fail("unknown bearer token"));

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, entry.Subject), new Claim(ClaimTypes.Role, entry.Role.ToLowerInvariant())],
            SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>Lower-case hex SHA-256, the form tokens are configured in.</summary>
    public static string Hash(ReadOnlySpan<char> token)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(token.Length, 1024))];
        if (token.Length > 1024) return "";
        var n = Encoding.UTF8.GetBytes(token, utf8);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(utf8[..n], digest);
        return Convert.ToHexStringLower(digest);
    }
}
