namespace OrleansControl.Codec;

/// <summary>One BER-TLV data object; <see cref="Raw"/> is its exact bytes (tag, length and value).</summary>
public readonly record struct TlvElement(uint Tag, ReadOnlyMemory<byte> Value, ReadOnlyMemory<byte> Raw)
{
    /// <summary>Constructed objects (bit 6 of the first tag byte) contain further TLVs.</summary>
    public bool IsConstructed => (Raw.Span[0] & 0x20) != 0;

    public string TagHex => Tag.ToString(Tag > 0xFFFFFF ? "X8" : Tag > 0xFFFF ? "X6" : Tag > 0xFF ? "X4" : "X2", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// BER-TLV as used by EMV field 55. The field keeps its raw bytes, so unknown tags, their order and padding
/// re-pack byte-identically; this class gives a parsed view and validates structure when unpacking.
/// </summary>
public static class Tlv
{
    /// <summary>Parses the top-level objects (0x00/0xFF padding between them is skipped).</summary>
    public static IReadOnlyList<TlvElement> Parse(ReadOnlyMemory<byte> data)
    {
        var list = new List<TlvElement>();
        var span = data.Span;
        var pos = 0;
        while (pos < span.Length)
        {
            if (span[pos] is 0x00 or 0xFF)
            {
                pos++;
                continue;
            }

            var start = pos;
            var error = ReadOne(span, ref pos, out var tag, out var valueStart, out var valueLength);
            if (error is not null)
            {
                throw new Iso8583Exception(error.Value.Expected, error.Value.Found, null, error.Value.Offset, "BER-TLV");
            }

            list.Add(new TlvElement(tag, data.Slice(valueStart, valueLength), data[start..pos]));
        }

        return list;
    }

    /// <summary>The first object with the tag, if any.</summary>
    public static bool TryFind(ReadOnlyMemory<byte> data, uint tag, out TlvElement element)
    {
        foreach (var e in Parse(data))
        {
            if (e.Tag == tag)
            {
                element = e;
                return true;
            }
        }

        element = default;
        return false;
    }

    internal static void Validate(ReadOnlySpan<byte> data, in Site site, int offset)
    {
        var pos = 0;
        while (pos < data.Length)
        {
            if (data[pos] is 0x00 or 0xFF)
            {
                pos++;
                continue;
            }

            var start = pos;
            if (!TrySkipOne(data, ref pos) && ReadOne(data, ref start, out _, out _, out _) is { } e)
            {
                throw new Iso8583Exception(e.Expected, e.Found, site.Field, offset + e.Offset, "BER-TLV");
            }
        }
    }

    /// <summary>Writes one object: minimal tag bytes and the shortest definite length form.</summary>
    public static int Write(uint tag, ReadOnlySpan<byte> value, Span<byte> dest)
    {
        var pos = WriteTag(tag, dest);
        var len = value.Length;
        if (len < 0x80)
        {
            dest[pos++] = (byte)len;
        }
        else if (len <= 0xFF)
        {
            dest[pos++] = 0x81;
            dest[pos++] = (byte)len;
        }
        else if (len <= 0xFFFF)
        {
            dest[pos++] = 0x82;
            dest[pos++] = (byte)(len >> 8);
            dest[pos++] = (byte)len;
        }
        else
        {
            dest[pos++] = 0x83;
            dest[pos++] = (byte)(len >> 16);
            dest[pos++] = (byte)(len >> 8);
            dest[pos++] = (byte)len;
        }

        value.CopyTo(dest[pos..]);
        return pos + len;
    }

    public static int EncodedLength(uint tag, int valueLength) =>
        TagLength(tag) + (valueLength < 0x80 ? 1 : valueLength <= 0xFF ? 2 : valueLength <= 0xFFFF ? 3 : 4) + valueLength;

    private static int TagLength(uint tag) => tag > 0xFFFFFF ? 4 : tag > 0xFFFF ? 3 : tag > 0xFF ? 2 : 1;

    private static int WriteTag(uint tag, Span<byte> dest)
    {
        var n = TagLength(tag);
        for (var i = 0; i < n; i++)
        {
            dest[i] = (byte)(tag >> (8 * (n - 1 - i)));
        }

        return n;
    }

    // The unpack-time check: same rules as ReadOne, without building error details (ReadOne explains a failure).
    private static bool TrySkipOne(ReadOnlySpan<byte> data, ref int pos)
    {
        var p = pos;
        if ((data[p++] & 0x1F) == 0x1F)
        {
            for (var n = 1; ; n++)
            {
                if (p >= data.Length || n >= 4)
                {
                    return false;
                }

                if ((data[p++] & 0x80) == 0)
                {
                    break;
                }
            }
        }

        if (p >= data.Length)
        {
            return false;
        }

        int length = data[p++];
        if (length >= 0x80)
        {
            var count = length & 0x7F;
            if (count is 0 or > 3 || data.Length - p < count)
            {
                return false;
            }

            length = 0;
            for (var i = 0; i < count; i++)
            {
                length = length << 8 | data[p++];
            }
        }

        if (data.Length - p < length)
        {
            return false;
        }

        pos = p + length;
        return true;
    }

    private static (string Expected, string Found, int Offset)? ReadOne(
        ReadOnlySpan<byte> data, ref int pos, out uint tag, out int valueStart, out int valueLength)
    {
        tag = 0;
        valueStart = 0;
        valueLength = 0;
        var start = pos;
        var first = data[pos++];
        tag = first;
        if ((first & 0x1F) == 0x1F)
        {
            // Subsequent tag bytes have bit 8 set while more follow; EMV tags are at most 3 bytes, we allow 4.
            while (true)
            {
                if (pos >= data.Length)
                {
                    return ("a complete tag", "end of data", start);
                }

                if (pos - start >= 4)
                {
                    return ("a tag of at most 4 bytes", "a longer tag", start);
                }

                var b = data[pos++];
                tag = tag << 8 | b;
                if ((b & 0x80) == 0)
                {
                    break;
                }
            }
        }

        if (pos >= data.Length)
        {
            return ("a length byte", "end of data", pos);
        }

        var lenStart = pos;
        var l = data[pos++];
        if (l >= 0x80)
        {
            var count = l & 0x7F;
            if (count is 0 or > 3)
            {
                return ("a definite length of 1-3 bytes", $"length byte 0x{l:X2}", lenStart);
            }

            if (data.Length - pos < count)
            {
                return ($"{count} length bytes", "end of data", lenStart);
            }

            var v = 0;
            for (var i = 0; i < count; i++)
            {
                v = v << 8 | data[pos++];
            }

            valueLength = v;
        }
        else
        {
            valueLength = l;
        }

        if (data.Length - pos < valueLength)
        {
            return ($"{valueLength} value bytes", $"{data.Length - pos} bytes left", lenStart);
        }

        valueStart = pos;
        pos += valueLength;
        return null;
    }
}

/// <summary>Builds a BER-TLV field value object by object.</summary>
public sealed class TlvBuilder
{
    private readonly List<byte> _bytes = [];

    public TlvBuilder Add(uint tag, ReadOnlySpan<byte> value)
    {
        Span<byte> one = new byte[Tlv.EncodedLength(tag, value.Length)];
        Tlv.Write(tag, value, one);
        _bytes.AddRange(one);
        return this;
    }

    public TlvBuilder Add(uint tag, string hexValue) => Add(tag, Convert.FromHexString(hexValue));

    public byte[] ToArray() => [.. _bytes];
}
