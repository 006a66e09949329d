using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace OrleansControl.Sidecar.Hosting;

/// <summary>
/// Reads a control endpoint's JSON body itself, so every bad body is a 400 problem (RFC 9457) that says what is wrong
/// in the caller's terms (the field, what was expected; never a .NET type name), with a bounded echo of the input.
/// Unknown fields are refused: a misspelt "deadlinMs" must not silently mean "no deadline".
/// </summary>
internal static class ControlRequestBody
{
    public const int MaxBytes = 16 * 1024;
    public const int MaxEcho = 100;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The body, null when there is none; or the problem to answer with.</summary>
    public static async Task<(T? Body, IResult? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        if (request.ContentLength > MaxBytes)
            return (null, BadRequest($"body: at most {MaxBytes} bytes (was {request.ContentLength})"));
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
                return (null, BadRequest($"body: at most {MaxBytes} bytes"));
            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
            return (null, null);
        try
        {
            return (JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), Json), null);
        }
        catch (JsonException e)
        {
            return (null, BadRequest(Describe(e)));
        }
    }

    public static IResult BadRequest(string detail) =>
        Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "bad request");

    /// <summary>At most <see cref="MaxEcho"/> characters of what the caller sent, for an error message.</summary>
    public static string Echo(string? value) => value is null ? "" : value.Length <= MaxEcho ? value : $"{value[..MaxEcho]}… ({value.Length} characters)";

    private static string Describe(JsonException e)
    {
        var field = e.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : null;
        var where = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
        var message = e.Message;
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
            return $"{field ?? "body"}: unknown field; expected only: {Expected}";
        if (message.Contains("could not be converted", StringComparison.Ordinal) && field is not null)
            return $"{field}: {(field.Equals("deadlineMs", StringComparison.OrdinalIgnoreCase) ? "expected a whole number of milliseconds" : "expected a string")}";
        return $"body: not valid JSON{where}";
    }

    private const string Expected = "deadlineMs (drain), server and reason (failover, connect)";
}
