using System.Buffers;

namespace OrleansControl.Codec;

/// <summary>Positional subfields: each subfield is a small field (own class, length kind, encoding) inside the parent value.</summary>
internal static class SubfieldCodec
{
    public static IReadOnlyList<ReadOnlyMemory<byte>> Read(FieldDefinition parent, ReadOnlyMemory<byte> value)
    {
        var decode = new byte[2 * value.Length];
        var result = new List<ReadOnlyMemory<byte>>(parent.Subfields.Count);
        Walk(parent, value.Span, decode, 0, Site.Of(parent), (slice, i) =>
            result.Add(slice.Decoded ? decode.AsMemory(slice.Start, slice.Length) : value.Slice(slice.Start, slice.Length)));
        return result;
    }

    public static void Validate(FieldDefinition parent, ReadOnlySpan<byte> value, in Site site, int offset)
    {
        var rented = ArrayPool<byte>.Shared.Rent(2 * value.Length);
        try
        {
            Walk(parent, value, rented, offset, site, null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static byte[] Compose(FieldDefinition parent, string[] values)
    {
        if (values.Length > parent.Subfields.Count)
        {
            throw new ArgumentException($"field {parent.Number} has {parent.Subfields.Count} subfields; got {values.Length} values", nameof(values));
        }

        var bytes = values.Select(v => System.Text.Encoding.Latin1.GetBytes(v)).ToArray();
        var total = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            total += FieldCodec.PackedLength(parent.Subfields[i], bytes[i].Length);
        }

        var result = new byte[total];
        var pos = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            var sub = parent.Subfields[i];
            pos += FieldCodec.Write(sub, bytes[i], result.AsSpan(pos), pos, SiteOf(parent, sub));
        }

        return result;
    }

    private static void Walk(FieldDefinition parent, ReadOnlySpan<byte> value, Span<byte> decode, int offset, in Site parentSite, Action<ValueSlice, int>? onSubfield)
    {
        var pos = 0;
        var decodePos = 0;
        for (var i = 0; i < parent.Subfields.Count && pos < value.Length; i++)
        {
            var sub = parent.Subfields[i];
            var site = new Site(parentSite.Field, i + 1, parentSite.Sensitive || sub.Sensitivity != Sensitivity.None);
            var slice = FieldCodec.Read(sub, value, ref pos, decode, ref decodePos, site, offset);
            onSubfield?.Invoke(slice, i);
        }

        if (pos < value.Length)
        {
            throw new Iso8583Exception("end of field after the last subfield", $"{value.Length - pos} more bytes", parent.Number, offset + pos);
        }
    }

    private static Site SiteOf(FieldDefinition parent, FieldDefinition sub) =>
        new(parent.Number, sub.Number, parent.Sensitivity != Sensitivity.None || sub.Sensitivity != Sensitivity.None);
}
