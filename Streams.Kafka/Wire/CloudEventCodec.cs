using System.Net.Mime;
using System.Text.Json;
using System.Text.Json.Serialization;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;

namespace OrleansControl.Streams.Kafka.Wire;

/// <summary>An event as read from Kafka: its CloudEvents id and type, and the .NET record.</summary>
public sealed record DecodedEvent(string Id, string Type, string? Subject, object Data);

/// <summary>
/// CloudEvents 1.0 structured JSON mode (<c>application/cloudevents+json</c>): the whole event, attributes and data,
/// is the Kafka message value, so any consumer reads it without .NET or a schema registry. Data is the record as
/// camelCase JSON with enums as lower-case strings.
/// </summary>
public sealed class CloudEventCodec(EventCatalog catalog, Uri source)
{
    public const string ContentType = "application/cloudevents+json";

    public static JsonSerializerOptions DataOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly JsonEventFormatter Formatter = new(DataOptions, default);

    public Uri Source { get; } = source;

    /// <summary>source = /regions/{region}/silos/{silo}.</summary>
    public static Uri SourceFor(string region, string silo) =>
        new($"/regions/{Uri.EscapeDataString(region)}/silos/{Uri.EscapeDataString(silo)}", UriKind.Relative);

    public ReadOnlyMemory<byte> Encode(object data, string id, DateTimeOffset time)
    {
        var kind = catalog.For(data.GetType());
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            Id = id,
            Source = Source,
            Type = kind.CloudEventType,
            Time = time,
            Subject = kind.Subject(data),
            DataContentType = MediaTypeNames.Application.Json,
            Data = data,
        };
        return Formatter.EncodeStructuredModeMessage(cloudEvent, out _);
    }

    /// <summary>Null when the bytes are not a CloudEvent of a type in the catalog (with the reason).</summary>
    public DecodedEvent? Decode(ReadOnlyMemory<byte> value, out string? problem)
    {
        CloudEvent cloudEvent;
        try
        {
            cloudEvent = Formatter.DecodeStructuredModeMessage(value, new ContentType(ContentType), null);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or FormatException or InvalidOperationException)
        {
            problem = $"not a structured-mode CloudEvent: {ex.GetType().Name}";
            return null;
        }
        if (cloudEvent.Type is null || !catalog.TryFor(cloudEvent.Type, out var kind))
        {
            problem = $"type '{cloudEvent.Type}' is not in the event catalog";
            return null;
        }
        if (cloudEvent.Data is not JsonElement json)
        {
            problem = $"{cloudEvent.Type} {cloudEvent.Id} has no JSON data";
            return null;
        }
        try
        {
            var data = json.Deserialize(kind.ClrType, DataOptions);
            problem = data is null ? $"{cloudEvent.Type} {cloudEvent.Id} has null data" : null;
            return data is null ? null : new DecodedEvent(cloudEvent.Id!, cloudEvent.Type, cloudEvent.Subject, data);
        }
        catch (JsonException ex)
        {
            problem = $"{cloudEvent.Type} {cloudEvent.Id}: data does not match {kind.ClrType.Name} at {ex.Path}";
            return null;
        }
    }
}
