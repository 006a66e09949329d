using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using YamlDotNet.Serialization;

namespace OrleansControl.Occtl.Output;

/// <summary>
/// JSON and YAML for scripts: the contract's proto3 JSON (camelCase names, enum names, every field present even
/// when it holds its default), so a script reads the same shape as the REST API answers.
/// </summary>
internal static class StructuredOutput
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly ISerializer Yaml = new SerializerBuilder().WithQuotingNecessaryStrings().Build();

    public static JsonNode ToNode(IMessage message)
    {
        var node = JsonNode.Parse(Formatter.Format(message))!;
        if (node is JsonObject o) AddNulls(message, o);
        return node;
    }

    /// <summary>An unset message field (<c>ejectedUntil</c>, <c>lastHeartbeat</c>) as null, so every field is always there.</summary>
    private static void AddNulls(IMessage message, JsonObject node)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.FieldType != Google.Protobuf.Reflection.FieldType.Message || field.IsMap) continue;
            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated)
            {
                if (value is System.Collections.IList list && node[field.JsonName] is JsonArray array)
                {
                    for (var i = 0; i < list.Count && i < array.Count; i++)
                    {
                        if (list[i] is IMessage item && array[i] is JsonObject itemNode) AddNulls(item, itemNode);
                    }
                }
            }
            else if (value is null)
            {
                node[field.JsonName] = null;
            }
            else if (value is IMessage inner && node[field.JsonName] is JsonObject innerNode)
            {
                AddNulls(inner, innerNode);
            }
        }
    }

    public static JsonObject Wrap(string name, IEnumerable<IMessage> messages) =>
        new() { [name] = new JsonArray(messages.Select(m => (JsonNode?)ToNode(m)).ToArray()) };

    /// <summary>One message on one line (JSON Lines), for event streams.</summary>
    public static string Line(IMessage message) => Formatter.Format(message);

    public static void Write(TextWriter output, JsonNode node, OutputFormat format)
    {
        if (format == OutputFormat.Yaml)
        {
            output.Write(Yaml.Serialize(ToPlain(node)));
        }
        else
        {
            output.WriteLine(node.ToJsonString(Indented));
        }
    }

    public static void Write(TextWriter output, IMessage message, OutputFormat format) => Write(output, ToNode(message), format);

    /// <summary>JSON nodes as dictionaries, lists and scalars, which YamlDotNet serialises in order.</summary>
    private static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => ToPlain(p.Value)),
        JsonArray a => a.Select(ToPlain).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => v.TryGetValue<long>(out var l) ? l : v.GetValue<double>(),
            _ => null,
        },
        _ => null,
    };
}
