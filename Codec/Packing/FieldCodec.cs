using System.Diagnostics.CodeAnalysis;

namespace OrleansControl.Codec;

/// <summary>
/// A field value found by <see cref="FieldCodec.Read"/>: a range of the buffer that holds the input followed by the
/// decode area, counted from the input's start. (Two ints, so it comes back in one register.)
/// </summary>
internal readonly record struct ValueSlice(int Start, int Length);

/// <summary>
/// Packs and unpacks one field by its definition: length prefix, content check, value encoding, padding.
/// Values are "logical": ASCII characters for text and digits (whatever the wire encoding), raw bytes for b fields.
/// </summary>
internal static class FieldCodec
{
    /// <summary>Wire bytes of a value of <paramref name="logical"/> units, excluding the prefix.</summary>
    public static int ValueWireLength(FieldDefinition d, int logical) => d.Encoding switch
    {
        FieldEncoding.Bcd => d.Content == ContentClass.SignedAmount ? 1 + logical / 2 : (logical + 1) / 2,
        FieldEncoding.Hex => 2 * logical,
        _ => logical,
    };

    public static int PackedLength(FieldDefinition d, int valueLength) =>
        d.PrefixByteLength + ValueWireLength(d, d.IsFixed ? Math.Max(d.MaxLength, valueLength) : valueLength);

    public static int Write(FieldDefinition d, ReadOnlySpan<byte> value, Span<byte> dest, int offset, in Site site)
    {
        var len = value.Length;
        if (d.IsFixedPlain && len == d.MaxLength)
        {
            // Most fields: exact fixed length, copied as is.
            var invalid = CharacterClasses.IndexOfInvalid(d, value);
            if (invalid >= 0)
            {
                ThrowBadByte(site, offset, CharacterClasses.Describe(d.Content), value[invalid], invalid);
            }

            value.CopyTo(dest);
            return len;
        }

        if (d.IsFixed && (len > d.MaxLength || (len < d.MaxLength && !d.CanPad)))
        {
            ThrowWrongLength(d, site, offset, len, d.CanPad ? "at most" : "exactly");
        }

        if (!d.IsFixed && len > d.MaxLength)
        {
            ThrowWrongLength(d, site, offset, len, "at most");
        }

        if (d.Content == ContentClass.SignedAmount && len < 2)
        {
            ThrowNoSign(site, offset, len, packing: true);
        }

        // BCD digits are checked as they are packed (Bcd.Write); everything else, and an x+n sign, before writing.
        if (d.Encoding != FieldEncoding.Bcd || d.Content == ContentClass.SignedAmount)
        {
            ThrowIfInvalid(d, value, offset, site);
        }

        var logical = d.IsFixed ? d.MaxLength : len;
        var p = d.PrefixByteLength;
        if (p > 0)
        {
            LengthPrefix.Write(d.PrefixEncoding, d.PrefixDigits, logical, dest);
        }

        var body = dest[p..];
        var pad = logical - len;
        switch (d.Encoding)
        {
            case FieldEncoding.Bcd:
                var packed = Bcd.Write(d, value, logical, body);
                if (packed < 0)
                {
                    ThrowIfInvalid(d, value, offset, site);
                }

                return p + packed;
            case FieldEncoding.Hex:
                Hex.Encode(value, body);
                return p + 2 * len;
            case FieldEncoding.Ebcdic:
                var text = body[..logical];
                CopyPadded(d, value, text, pad);
                for (var i = 0; i < text.Length; i++)
                {
                    text[i] = Ebcdic.Encode(text[i]);
                }

                return p + logical;
            default:
                CopyPadded(d, value, body[..logical], pad);
                return p + logical;
        }
    }

    /// <summary>
    /// Reads one field at <paramref name="pos"/>. Hex and EBCDIC values are decoded in place (they never grow),
    /// so <paramref name="src"/> must be the codec's own copy; BCD digits go to the <paramref name="decode"/> area,
    /// which directly follows <paramref name="src"/> in the same buffer.
    /// </summary>
    public static ValueSlice Read(
        FieldDefinition d, Span<byte> src, ref int pos, Span<byte> decode, ref int decodePos, in Site site, int baseOffset)
    {
        if (d.IsFixedPlain)
        {
            // Most fields: fixed length, ASCII or binary on the wire, no inner structure.
            var n = d.MaxLength;
            if (src.Length - pos < n)
            {
                ThrowTruncated(site, baseOffset + pos, n, src.Length - pos);
            }

            var v = src.Slice(pos, n);
            var inv = CharacterClasses.IndexOfInvalid(d, v);
            if (inv >= 0)
            {
                ThrowBadByte(site, baseOffset + pos + inv, CharacterClasses.Describe(d.Content), v[inv], inv);
            }

            var fixedSlice = new ValueSlice(pos, n);
            pos += n;
            return fixedSlice;
        }

        if (d.IsFixedBcd)
        {
            // Fixed BCD digits (amounts, dates, codes): most fields of a binary dialect.
            var digits = d.MaxLength;
            var bytes = (digits + 1) / 2;
            if (src.Length - pos < bytes)
            {
                ThrowTruncated(site, baseOffset + pos, bytes, src.Length - pos);
            }

            Bcd.Read(d, src.Slice(pos, bytes), decode.Slice(decodePos, digits), baseOffset + pos, site);
            var bcdSlice = new ValueSlice(src.Length + decodePos, digits);
            decodePos += digits;
            pos += bytes;
            return bcdSlice;
        }

        var logical = d.MaxLength;
        if (!d.IsFixed)
        {
            var p = d.PrefixByteLength;
            if (src.Length - pos < p)
            {
                ThrowPrefixTruncated(site, baseOffset + pos, p, src.Length - pos);
            }

            var bad = LengthPrefix.Read(d.PrefixEncoding, d.PrefixDigits, src.Slice(pos, p), out logical);
            if (bad >= 0)
            {
                ThrowBadPrefix(site, baseOffset + pos + bad, d.PrefixEncoding, src[pos + bad]);
            }

            if (logical > d.MaxLength)
            {
                ThrowTooLong(site, baseOffset + pos, d.MaxLength, logical);
            }

            pos += p;
        }

        if (d.Content == ContentClass.SignedAmount && logical < 2)
        {
            ThrowNoSign(site, baseOffset + pos, logical, packing: false);
        }

        var wire = ValueWireLength(d, logical);
        if (src.Length - pos < wire)
        {
            ThrowTruncated(site, baseOffset + pos, wire, src.Length - pos);
        }

        var w = src.Slice(pos, wire);
        var valueOffset = baseOffset + pos;
        ValueSlice slice;
        ReadOnlySpan<byte> value;
        switch (d.Encoding)
        {
            case FieldEncoding.Bcd:
                var digits = decode.Slice(decodePos, logical);
                Bcd.Read(d, w, digits, valueOffset, site);
                slice = new ValueSlice(src.Length + decodePos, logical);
                value = digits;
                decodePos += logical;
                break;
            case FieldEncoding.Hex:
                var raw = src.Slice(pos, logical);
                var badHex = Hex.Decode(w, raw);
                if (badHex >= 0)
                {
                    ThrowBadByte(site, valueOffset + badHex, "upper-case hex digits", w[badHex], badHex);
                }

                slice = new ValueSlice(pos, logical);
                value = raw;
                break;
            case FieldEncoding.Ebcdic:
                var text = src.Slice(pos, logical);
                for (var i = 0; i < text.Length; i++)
                {
                    var e = text[i];
                    text[i] = Ebcdic.Decode(e);
                    if (text[i] == 0)
                    {
                        ThrowBadByte(site, valueOffset + i, "printable EBCDIC (code page 037)", e, i);
                    }
                }

                slice = new ValueSlice(pos, logical);
                value = text;
                break;
            default:
                slice = new ValueSlice(pos, wire);
                value = w;
                break;
        }

        // BCD decoding already guarantees digits (n) or track characters (z); only an x+n sign is left to check.
        var invalid = d.Encoding == FieldEncoding.Bcd && d.Content != ContentClass.SignedAmount ? -1 : CharacterClasses.IndexOfInvalid(d, value);
        if (invalid >= 0)
        {
            ThrowBadByte(site, valueOffset + (d.Encoding == FieldEncoding.Ascii ? invalid : 0),
                CharacterClasses.Describe(d.Content), value[invalid], invalid);
        }

        if (d.Format == FieldFormat.Tlv)
        {
            Tlv.Validate(value, site, valueOffset);
        }
        else if (d.Format == FieldFormat.Subfields)
        {
            SubfieldCodec.Validate(d, value, site, valueOffset);
        }

        pos += wire;
        return slice;
    }

    // Read and Write run for every field: their failures are raised by these helpers so that no string formatting
    // (and no zeroed handler locals) sits in their own frames.
    [DoesNotReturn]
    private static void ThrowTruncated(in Site site, int offset, int needed, int left) =>
        throw site.Error(offset, $"{needed} bytes of value", Remaining(left));

    [DoesNotReturn]
    private static void ThrowPrefixTruncated(in Site site, int offset, int needed, int left) =>
        throw site.Error(offset, $"a {needed}-byte length prefix", Remaining(left));

    private static void ThrowIfInvalid(FieldDefinition d, ReadOnlySpan<byte> value, int offset, in Site site)
    {
        var bad = CharacterClasses.IndexOfInvalid(d, value);
        if (bad >= 0)
        {
            ThrowBadByte(site, offset, CharacterClasses.Describe(d.Content), value[bad], bad);
        }
    }

    [DoesNotReturn]
    private static void ThrowBadByte(in Site site, int offset, string expected, byte b, int index) =>
        throw site.Error(offset, expected, site.Byte(b, index));

    [DoesNotReturn]
    private static void ThrowBadPrefix(in Site site, int offset, FieldEncoding encoding, byte b) =>
        throw site.Error(offset, $"a {encoding} length prefix", $"0x{b:X2}");

    [DoesNotReturn]
    private static void ThrowTooLong(in Site site, int offset, int max, int logical) =>
        throw site.Error(offset, $"a length of at most {max}", $"{logical}");

    [DoesNotReturn]
    private static void ThrowNoSign(in Site site, int offset, int length, bool packing) =>
        throw site.Error(offset, "a 'C' or 'D' sign and at least one digit", packing ? $"{length} characters" : $"length {length}");

    [DoesNotReturn]
    private static void ThrowWrongLength(FieldDefinition d, in Site site, int offset, int length, string bound) =>
        throw site.Error(offset, $"{bound} {d.MaxLength} {Units(d)}", $"{length}");

    private static string Units(FieldDefinition d) => d.Content switch
    {
        ContentClass.Binary => "bytes",
        ContentClass.Numeric => "digits",
        _ => "characters",
    };

    private static string Remaining(int left) => left <= 0 ? "end of data" : $"only {left} bytes left";

    internal static void CopyPadded(FieldDefinition d, ReadOnlySpan<byte> value, Span<byte> dest, int pad)
    {
        if (pad == 0)
        {
            value.CopyTo(dest);
        }
        else if (d.Pad == PadSide.Left)
        {
            dest[..pad].Fill(d.PadChar);
            value.CopyTo(dest[pad..]);
        }
        else
        {
            value.CopyTo(dest);
            dest[value.Length..].Fill(d.PadChar);
        }
    }
}
