using System.Buffers;
using System.Runtime.InteropServices;

namespace OrleansControl.Codec;

/// <summary>Positional subfields: each subfield is a small field (own class, length kind, encoding) inside the parent value.</summary>
internal static class SubfieldCodec
{
    private const int StackLimit = 512;

    public static IReadOnlyList<ReadOnlyMemory<byte>> Read(FieldDefinition parent, ReadOnlyMemory<byte> value)
    {
        // A private copy (subfields may decode in place) followed by room for BCD digits.
        var work = new byte[3 * value.Length];
        value.Span.CopyTo(work);
        var result = new List<ReadOnlyMemory<byte>>(parent.Subfields.Count);
        var src = work.AsSpan(0, value.Length);
        var decode = work.AsSpan(value.Length);
        var pos = 0;
        var decodePos = 0;
        var site = Site.Of(parent);
        for (var i = 0; i < parent.Subfields.Count && pos < src.Length; i++)
        {
            var sub = parent.Subfields[i];
            var slice = FieldCodec.Read(sub, src, ref pos, decode, ref decodePos, SiteOf(site, i, sub), 0);
            result.Add(work.AsMemory(slice.Start, slice.Length));
        }

        CheckConsumed(parent, src.Length, pos, 0);
        return result;
    }

    public static void Validate(FieldDefinition parent, ReadOnlySpan<byte> value, in Site site, int offset)
    {
        if (parent.SubfieldsReadInPlace)
        {
            // ASCII/binary subfields are only read, never decoded, so no private copy is needed.
            var pos = 0;
            var none = 0;
            var src = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(value), value.Length);
            for (var i = 0; i < parent.Subfields.Count && pos < src.Length; i++)
            {
                var sub = parent.Subfields[i];
                FieldCodec.Read(sub, src, ref pos, default, ref none, SiteOf(site, i, sub), offset);
            }

            CheckConsumed(parent, src.Length, pos, offset);
            return;
        }

        var size = 3 * value.Length;
        byte[]? rented = null;
        var work = size <= StackLimit ? stackalloc byte[size] : (rented = ArrayPool<byte>.Shared.Rent(size));
        try
        {
            value.CopyTo(work);
            var src = work[..value.Length];
            var decode = work[value.Length..];
            var pos = 0;
            var decodePos = 0;
            for (var i = 0; i < parent.Subfields.Count && pos < src.Length; i++)
            {
                var sub = parent.Subfields[i];
                FieldCodec.Read(sub, src, ref pos, decode, ref decodePos, SiteOf(site, i, sub), offset);
            }

            CheckConsumed(parent, src.Length, pos, offset);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
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
        var site = Site.Of(parent);
        for (var i = 0; i < bytes.Length; i++)
        {
            var sub = parent.Subfields[i];
            pos += FieldCodec.Write(sub, bytes[i], result.AsSpan(pos), pos, SiteOf(site, i, sub));
        }

        return result;
    }

    private static void CheckConsumed(FieldDefinition parent, int length, int pos, int offset)
    {
        if (pos < length)
        {
            throw new Iso8583Exception("end of field after the last subfield", $"{length - pos} more bytes", parent.Number, offset + pos);
        }
    }

    private static Site SiteOf(in Site parent, int index, FieldDefinition sub) =>
        new(parent.Field, index + 1, parent.Sensitive || sub.Sensitivity != Sensitivity.None);
}
