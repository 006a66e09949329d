using System.Globalization;
using System.Text.Json;
using Google.Protobuf.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.Http;

namespace OrleansControl.Gateway.Errors;

/// <summary>
/// Checks a REST request's JSON body against the proto message it transcodes to, before JSON transcoding reads it:
/// transcoding answers every type error with "Request JSON payload is not correctly formatted." (and an unknown enum
/// name with a .NET type name), and ignores unknown fields. Here each problem is INVALID_ARGUMENT naming the proto
/// field path and what was expected (<c>server.capacity: expected a whole number (int32), got the string "ten"</c>),
/// and an unknown field is refused: a misspelt field must not silently mean "not set".
/// </summary>
internal static class RestBodyValidation
{
    private const int MaxProblems = 10;

    public static IApplicationBuilder UseRestBodyValidation(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var rule = context.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>();
        if (rule is null || string.IsNullOrEmpty(rule.HttpRule.Body) || !HasBody(context.Request))
        {
            await next(context);
            return;
        }

        context.Request.EnableBuffering();
        var problems = new List<string>();
        try
        {
            using var json = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            var input = rule.MethodDescriptor.InputType;
            if (rule.HttpRule.Body == "*")
            {
                CheckMessage(json.RootElement, input, "", problems);
            }
            else if (input.FindFieldByName(rule.HttpRule.Body) is { } field)
            {
                Check(json.RootElement, field, field.Name, problems);
            }
        }
        catch (JsonException e)
        {
            problems.Add($"body: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }
        context.Request.Body.Position = 0;
        if (problems.Count == 0)
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsJsonAsync(new { code = 3, message = string.Join("; ", problems.Take(MaxProblems)), details = Array.Empty<object>() });
    });

    private static bool HasBody(HttpRequest request) => request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;

    private static void CheckMessage(JsonElement value, MessageDescriptor message, string path, List<string> problems)
    {
        if (WellKnown(message.FullName) is { } expected)
        {
            if (expected.Length > 0 && value.ValueKind != JsonValueKind.String && value.ValueKind != JsonValueKind.Null)
                problems.Add($"{Name(path)}: expected {expected}, got {Describe(value)}");
            return;
        }
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{Name(path)}: expected an object, got {Describe(value)}");
            return;
        }
        foreach (var property in value.EnumerateObject())
        {
            var field = message.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == property.Name || f.Name == property.Name);
            var at = path.Length == 0 ? Bounded(property.Name) : $"{path}.{Bounded(property.Name)}";
            if (field is null)
                problems.Add($"{at}: unknown field (known: {string.Join(", ", message.Fields.InDeclarationOrder().Select(f => f.JsonName))})");
            else
                Check(property.Value, field, path.Length == 0 ? field.Name : $"{path}.{field.Name}", problems);
        }
    }

    private static void Check(JsonElement value, FieldDescriptor field, string path, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (field.IsMap)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{path}: expected an object (a map), got {Describe(value)}");
                return;
            }
            var valueField = field.MessageType.FindFieldByNumber(2);
            foreach (var entry in value.EnumerateObject()) CheckSingle(entry.Value, valueField, $"{path}[{Bounded(entry.Name)}]", problems);
            return;
        }
        if (field.IsRepeated)
        {
            if (value.ValueKind != JsonValueKind.Array)
            {
                problems.Add($"{path}: expected an array, got {Describe(value)}");
                return;
            }
            var i = 0;
            foreach (var item in value.EnumerateArray()) CheckSingle(item, field, $"{path}[{i++}]", problems);
            return;
        }
        CheckSingle(value, field, path, problems);
    }

    internal static void CheckSingle(JsonElement value, FieldDescriptor field, string path, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        var problem = field.FieldType switch
        {
            FieldType.String => value.ValueKind == JsonValueKind.String ? null : "a string",
            FieldType.Bool => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "true or false",
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => Integer(value, int.MinValue, int.MaxValue) ? null : "a whole number (int32)",
            FieldType.UInt32 or FieldType.Fixed32 => Integer(value, 0, uint.MaxValue) ? null : "a whole number from 0 (uint32)",
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => Integer(value, long.MinValue, long.MaxValue) ? null : "a whole number (int64)",
            FieldType.UInt64 or FieldType.Fixed64 => Integer(value, 0, ulong.MaxValue) ? null : "a whole number from 0 (uint64)",
            FieldType.Double or FieldType.Float => value.ValueKind == JsonValueKind.Number
                || (value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)) ? null : "a number",
            FieldType.Bytes => value.ValueKind == JsonValueKind.String ? null : "a base64 string",
            FieldType.Enum => Enum(value, field.EnumType),
            FieldType.Message => null,
            _ => null,
        };
        if (field.FieldType == FieldType.Message)
            CheckMessage(value, field.MessageType, path, problems);
        else if (problem is not null)
            problems.Add($"{path}: expected {problem}, got {Describe(value)}");
    }

    private static string? Enum(JsonElement value, EnumDescriptor type)
    {
        var names = type.Values.Select(v => v.Name).ToList();
        if (value.ValueKind == JsonValueKind.String && names.Contains(value.GetString()!, StringComparer.Ordinal)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && type.FindValueByNumber(n) is not null) return null;
        return $"one of {string.Join(", ", names)}";
    }

    private static bool Integer(JsonElement value, decimal min, decimal max)
    {
        decimal d;
        if (value.ValueKind == JsonValueKind.Number)
        {
            if (!value.TryGetDecimal(out d)) return false;
        }
        else if (value.ValueKind != JsonValueKind.String || !decimal.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out d))
        {
            return false;
        }
        return d == decimal.Truncate(d) && d >= min && d <= max;
    }

    /// <summary>Well-known types written as JSON strings (what they expect), or "" for any JSON value; null for ordinary messages.</summary>
    internal static string? WellKnown(string fullName) => fullName switch
    {
        "google.protobuf.Timestamp" => "an RFC 3339 time such as \"2026-12-01T10:00:00Z\"",
        "google.protobuf.Duration" => "a duration such as \"1.5s\"",
        "google.protobuf.FieldMask" => "a comma-separated field list",
        "google.protobuf.Value" or "google.protobuf.Struct" or "google.protobuf.ListValue" or "google.protobuf.Any" => "",
        _ when fullName.StartsWith("google.protobuf.", StringComparison.Ordinal) && fullName.EndsWith("Value", StringComparison.Ordinal) => "",
        _ => null,
    };

    private static string Name(string path) => path.Length == 0 ? "body" : path;

    internal static string Bounded(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Bounded(value.GetString()!)}\"",
        JsonValueKind.Number => $"the number {Bounded(value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };
}
