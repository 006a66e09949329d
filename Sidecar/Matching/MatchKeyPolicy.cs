using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Sidecar.Matching;

/// <summary>
/// Which fields, besides the MTI pair, identify a request and its response. Configurable per MTI pair
/// (a dialect may match 0420s on field 37, or 0800s on STAN alone); the default is STAN (11) + terminal id (41).
/// A field absent from the message counts as empty, so a key never fails to compute; padding is ignored.
/// </summary>
public sealed class MatchKeyPolicy
{
    public static readonly int[] DefaultFields = [11, 41];

    private readonly int[] _default;
    private readonly Dictionary<int, int[]> _byPair;

    public MatchKeyPolicy(IReadOnlyDictionary<string, int[]>? byMti = null, int[]? defaultFields = null)
    {
        _default = defaultFields is { Length: > 0 } ? defaultFields : DefaultFields;
        _byPair = [];
        foreach (var (mti, fields) in byMti ?? new Dictionary<string, int[]>())
        {
            if (!Mti.TryParse(mti, out var parsed) || fields.Length == 0)
            {
                throw new ArgumentException($"match key for '{mti}': expected a 4-digit MTI and at least one field");
            }

            _byPair[MatchKey.PairOf(parsed.Value)] = fields;
        }
    }

    public static MatchKeyPolicy Default { get; } = new();

    public MatchKey KeyOf(IsoMessage message)
    {
        var pair = MatchKey.PairOf(IsoWire.MtiOf(message));
        var fields = _byPair.TryGetValue(pair, out var f) ? f : _default;
        var value = fields.Length switch
        {
            1 => Latin1(Trimmed(message, fields[0]).Span),
            2 => Join(Trimmed(message, fields[0]), Trimmed(message, fields[1])),
            _ => string.Join('\u001f', fields.Select(n => Latin1(Trimmed(message, n).Span))),
        };
        return new MatchKey(pair, value);
    }

    /// <summary>
    /// The field as it identifies the message: padding trimmed, so "T1" set by the sender matches the
    /// "T1      " a peer echoes back in a fixed ans 8 field, and "123" matches "000123" in an n 6 field.
    /// Works on the field's bytes so a key costs one string, not one per field.
    /// </summary>
    private static ReadOnlyMemory<byte> Trimmed(IsoMessage message, int field)
    {
        if (!message.TryGet(field, out var value))
        {
            return default;
        }

        var span = value.Span;
        var start = 0;
        var end = span.Length;
        while (start < end && span[start] is (byte)' ' or (byte)'0')
        {
            start++;
        }

        while (end > start && span[end - 1] == (byte)' ')
        {
            end--;
        }

        return value[start..end];
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => System.Text.Encoding.Latin1.GetString(bytes);

    private static string Join(ReadOnlyMemory<byte> a, ReadOnlyMemory<byte> b) =>
        string.Create(a.Length + 1 + b.Length, (a, b), static (chars, parts) =>
        {
            var (first, second) = parts;
            System.Text.Encoding.Latin1.GetChars(first.Span, chars);
            chars[first.Length] = '\u001f';
            System.Text.Encoding.Latin1.GetChars(second.Span, chars[(first.Length + 1)..]);
        });
}
