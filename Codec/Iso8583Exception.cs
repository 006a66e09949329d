namespace OrleansControl.Codec;

/// <summary>
/// The one error the codec raises for malformed input, an invalid message, or an invalid spec.
/// It names the field, the byte offset and what was expected versus found; it never carries the
/// value of a sensitive field (PAN, track data, PIN block), so it is safe to log.
/// </summary>
public sealed class Iso8583Exception : Exception
{
    public Iso8583Exception(string expected, string found, int? field = null, int? offset = null, string? context = null)
        : base(Format(expected, found, field, offset, context))
    {
        Expected = expected;
        Found = found;
        Field = field;
        Offset = offset;
    }

    /// <summary>Field number (1–192), or null when the error is in the MTI, bitmap, frame header or spec as a whole.</summary>
    public int? Field { get; }

    /// <summary>Byte offset from the start of the message (or frame) where the problem was detected.</summary>
    public int? Offset { get; }

    public string Expected { get; }

    public string Found { get; }

    private static string Format(string expected, string found, int? field, int? offset, string? context)
    {
        var where = (field, context) switch
        {
            ({ } f, { } c) => $"field {f} ({c})",
            ({ } f, null) => $"field {f}",
            (null, { } c) => c,
            _ => "message",
        };
        var at = offset is { } o ? $" at offset {o}" : "";
        return $"{where}{at}: expected {expected}, found {found}";
    }
}
