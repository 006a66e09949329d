namespace OrleansControl.Codec;

/// <summary>
/// Packed BCD values: two digits per byte; an odd digit count adds one pad nibble on the pad side
/// (left = right-justified). Track characters 0x30-0x3F map to nibbles 0-F, so '=' is D.
/// An x+n amount keeps its sign as one ASCII byte before the digits.
/// </summary>
internal static class Bcd
{
    // Digits and track characters map to nibbles as (c - 0x30): '0'-'9' → 0-9, '=' → D; 'D' is accepted for '='.
    private static int NibbleOf(byte c) => c == (byte)'D' ? 0xD : c - 0x30;

    public static int Write(FieldDefinition d, ReadOnlySpan<byte> value, int logical, Span<byte> dest)
    {
        var o = 0;
        if (d.Content == ContentClass.SignedAmount)
        {
            dest[0] = value[0];
            value = value[1..];
            logical--;
            o = 1;
        }

        Span<byte> padded = logical == value.Length ? default : logical <= 256 ? stackalloc byte[logical] : new byte[logical];
        if (!padded.IsEmpty)
        {
            FieldCodec.CopyPadded(d, value, padded, logical - value.Length);
        }

        ReadOnlySpan<byte> digits = padded.IsEmpty ? value : padded;

        var k = 0;
        var b = o;
        if ((logical & 1) == 1 && d.Pad == PadSide.Left)
        {
            dest[b++] = (byte)(d.PadNibble << 4 | NibbleOf(digits[k++]));
        }

        for (; k + 1 < logical; k += 2)
        {
            dest[b++] = (byte)(NibbleOf(digits[k]) << 4 | NibbleOf(digits[k + 1]));
        }

        if (k < logical)
        {
            dest[b++] = (byte)(NibbleOf(digits[k]) << 4 | d.PadNibble);
        }

        return b;
    }

    public static void Read(FieldDefinition d, ReadOnlySpan<byte> w, Span<byte> dest, int offset, in Site site)
    {
        var b = 0;
        var logical = dest.Length;
        if (d.Content == ContentClass.SignedAmount)
        {
            dest[0] = w[0];
            dest = dest[1..];
            b = 1;
            logical--;
        }

        var numeric = d.Content != ContentClass.Track2;
        var k = 0;
        if ((logical & 1) == 1 && d.Pad == PadSide.Left)
        {
            CheckPad(d, w[b] >> 4, offset + b, site);
            dest[k++] = Digit(w[b] & 0xF, numeric, offset + b, site);
            b++;
        }

        for (; k + 1 < logical; k += 2, b++)
        {
            int hi = w[b] >> 4, lo = w[b] & 0xF;
            if (numeric && (hi > 9 || lo > 9))
            {
                Digit(hi > 9 ? hi : lo, numeric, offset + b, site); // throws
            }

            dest[k] = (byte)(0x30 + hi);
            dest[k + 1] = (byte)(0x30 + lo);
        }

        if (k < logical)
        {
            dest[k] = Digit(w[b] >> 4, numeric, offset + b, site);
            CheckPad(d, w[b] & 0xF, offset + b, site);
        }
    }

    private static byte Digit(int nibble, bool numeric, int offset, in Site site)
    {
        if (numeric && nibble > 9)
        {
            throw site.Error(offset, "BCD digits 0-9", site.Sensitive ? "a non-decimal nibble" : $"nibble {nibble:X}");
        }

        return (byte)(0x30 + nibble);
    }

    private static void CheckPad(FieldDefinition d, int nibble, int offset, in Site site)
    {
        if (nibble != d.PadNibble)
        {
            throw site.Error(offset, $"pad nibble {d.PadNibble:X}", site.Sensitive ? "another nibble" : $"nibble {nibble:X}");
        }
    }
}
