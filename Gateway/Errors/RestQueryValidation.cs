using System.Text.Json;
using Google.Protobuf.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.Http;

namespace OrleansControl.Gateway.Errors;

/// <summary>
/// Checks a REST request's query string against the proto message it transcodes to, as <see cref="RestBodyValidation"/>
/// checks bodies: JSON transcoding answers a value it cannot convert with a generic message, and ignores a parameter
/// that names no field. Here each problem is INVALID_ARGUMENT (400) naming the parameter, its field and what was
/// expected (<c>query parameter pageSize (page_size): expected a whole number (int32), got the string "abc"</c>), and
/// an unknown parameter is refused. Runs after authorization: an unauthenticated caller is answered 401 whatever it sent.
/// </summary>
internal static class RestQueryValidation
{
    private const int MaxProblems = 10;

    public static IApplicationBuilder UseRestQueryValidation(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var rule = context.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>();
        // With body "*" every field comes from the body (and the route): transcoding reads nothing from the query.
        if (rule is null || rule.HttpRule.Body == "*" || context.Request.Query.Count == 0)
        {
            await next(context);
            return;
        }

        var problems = new List<string>();
        foreach (var (name, values) in context.Request.Query)
        {
            var (field, path, problem) = Resolve(rule.MethodDescriptor.InputType, name);
            var at = $"query parameter {RestBodyValidation.Bounded(name)}";
            if (problem is not null)
            {
                problems.Add($"{at}: {problem}");
                continue;
            }
            if (!field!.IsRepeated && values.Count > 1)
            {
                problems.Add($"{at} ({path}): given {values.Count} times, takes one value");
                continue;
            }
            foreach (var value in values)
            {
                var found = new List<string>();
                using var json = JsonDocument.Parse(AsJson(field, value ?? ""));
                RestBodyValidation.CheckSingle(json.RootElement, field, path!, found);
                // CheckSingle names the field path first ("page_size: expected …"); the caller wrote the parameter.
                problems.AddRange(found.Select(p => $"{at} ({path}): {(p.StartsWith(path + ": ", StringComparison.Ordinal) ? p[(path!.Length + 2)..] : p)}"));
            }
        }
        if (problems.Count == 0)
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsJsonAsync(new { code = 3, message = string.Join("; ", problems.Take(MaxProblems)), details = Array.Empty<object>() });
    });

    /// <summary>The field a dotted parameter names (by JSON or proto name, as transcoding accepts), its proto path, or what is wrong.</summary>
    private static (FieldDescriptor? Field, string? Path, string? Problem) Resolve(MessageDescriptor message, string name)
    {
        FieldDescriptor? field = null;
        var path = "";
        foreach (var part in name.Split('.'))
        {
            if (field is not null)
            {
                if (field.FieldType != FieldType.Message || field.IsMap || RestBodyValidation.WellKnown(field.MessageType.FullName) is not null)
                    return (null, null, $"unknown field: {path} has no fields");
                message = field.MessageType;
            }
            field = message.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == part || f.Name == part);
            if (field is null)
                return (null, null, $"unknown field (known: {string.Join(", ", message.Fields.InDeclarationOrder().Select(f => f.JsonName))})");
            path = path.Length == 0 ? field.Name : $"{path}.{field.Name}";
        }
        if (field!.IsMap || (field.FieldType == FieldType.Message && RestBodyValidation.WellKnown(field.MessageType.FullName) is null))
            return (null, null, $"{path} is a message: name one of its fields ({path}.…)");
        return (field, path, null);
    }

    /// <summary>A query value as the JSON a body would carry: true/false and enum numbers bare, everything else a string.</summary>
    private static string AsJson(FieldDescriptor field, string value) => field.FieldType switch
    {
        FieldType.Bool when value is "true" or "false" => value,
        FieldType.Enum when value.Length is > 0 and <= 10 && value.All(char.IsAsciiDigit) => value,
        _ => JsonSerializer.Serialize(value),
    };
}
