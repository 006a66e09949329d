using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansControl.Codec;

/// <summary>
/// Packed BCD values: two digits per byte; an odd digit count adds one pad nibble on the pad side
/// (left = right-justified). Track characters 0x30-0x3F map to nibbles 0-F, so '=' is D.
/// An x+n amount keeps its sign as one ASCII byte before the digits.
/// </summary>
/// <remarks>
/// Both directions go a whole byte (two digits) per step through 256-entry tables instead of nibble by nibble:
/// BCD is most of a binary-dialect message, so this loop is the codec's hot path.
/// </remarks>
internal static class Bcd
{
    // For each packed byte, its two characters in native order (so one 16-bit store writes "hi lo" in memory).
    // DecimalPairs has 0 for bytes with a nibble above 9 (not valid in an n field); TrackPairs takes any nibble.
    private static readonly ushort[] DecimalPairs = BuildPairs(decimalOnly: true);
    private static readonly ushort[] TrackPairs = BuildPairs(decimalOnly: false);

    // Character → nibble: (c - 0x30) for '0'-'9' and the track characters up to '?'; 'D' is accepted for '='.
    // The strict tables hold 0xFF for characters outside the class, so packing checks the value as it goes;
    // Nibbles maps anything (a padded value is checked before padding, and the pad character is the spec's).
    private static readonly byte[] Nibbles = BuildNibbles(strictClass: null);
    private static readonly byte[] DecimalNibbles = BuildNibbles(ContentClass.Numeric);
    private static readonly byte[] TrackNibbles = BuildNibbles(ContentClass.Track2);

    /// <summary>
    /// Packs the value; returns the bytes written, or -1 if a digit is not allowed in the field's class
    /// (the caller then finds and reports it). An x+n sign is copied, not checked.
    /// </summary>
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

        var written = logical == value.Length
            ? WriteDigits(d, value, dest[o..], d.Content == ContentClass.Track2 ? TrackNibbles : DecimalNibbles)
            : WritePadded(d, value, logical, dest[o..]);
        return written < 0 ? -1 : o + written;
    }

    // A short value is padded to its fixed length first. Kept apart so the common path has no stackalloc.
    private static int WritePadded(FieldDefinition d, ReadOnlySpan<byte> value, int logical, Span<byte> dest)
    {
        if (CharacterClasses.IndexOfInvalid(d, value) >= 0)
        {
            return -1;
        }

        Span<byte> padded = logical <= 256 ? stackalloc byte[logical] : new byte[logical];
        FieldCodec.CopyPadded(d, value, padded, logical - value.Length);
        return WriteDigits(d, padded, dest, Nibbles);
    }

    private static int WriteDigits(FieldDefinition d, ReadOnlySpan<byte> digits, Span<byte> dest, byte[] nibbles)
    {
        var logical = digits.Length;
        var seen = 0; // OR of all nibbles looked up: above 0xF if any character was outside the class
        var k = 0;
        var b = 0;
        if ((logical & 1) == 1 && d.Pad == PadSide.Left)
        {
            int lo = nibbles[digits[k++]];
            seen |= lo;
            dest[b++] = (byte)(d.PadNibble << 4 | lo);
        }

        var pairs = dest.Slice(b, (logical - k) / 2);
        for (var i = 0; i < pairs.Length; i++, k += 2)
        {
            int hi = nibbles[digits[k]], lo = nibbles[digits[k + 1]];
            seen |= hi | lo;
            pairs[i] = (byte)(hi << 4 | lo);
        }

        b += pairs.Length;
        if (k < logical)
        {
            int hi = nibbles[digits[k]];
            seen |= hi;
            dest[b++] = (byte)(hi << 4 | d.PadNibble);
        }

        return seen > 0xF ? -1 : b;
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

        var table = numeric ? DecimalPairs : TrackPairs;
        var packed = w.Slice(b, (logical - k) / 2);
        ref var target = ref MemoryMarshal.GetReference(dest[k..(k + 2 * packed.Length)]);
        for (var i = 0; i < packed.Length; i++)
        {
            var pair = table[packed[i]];
            if (pair == 0)
            {
                int hi = packed[i] >> 4, lo = packed[i] & 0xF;
                Digit(hi > 9 ? hi : lo, numeric, offset + b + i, site); // throws
            }

            // In range: the slice above holds exactly 2 * packed.Length bytes.
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, 2 * i), pair);
        }

        b += packed.Length;
        k += 2 * packed.Length;
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
            ThrowNotDecimal(nibble, offset, site);
        }

        return (byte)(0x30 + nibble);
    }

    private static void CheckPad(FieldDefinition d, int nibble, int offset, in Site site)
    {
        if (nibble != d.PadNibble)
        {
            ThrowBadPad(d, nibble, offset, site);
        }
    }

    // Failures are formatted apart so that the checks above stay small enough to inline into the per-field loop.
    [DoesNotReturn]
    private static void ThrowNotDecimal(int nibble, int offset, in Site site) =>
        throw site.Error(offset, "BCD digits 0-9", site.Sensitive ? "a non-decimal nibble" : $"nibble {nibble:X}");

    [DoesNotReturn]
    private static void ThrowBadPad(FieldDefinition d, int nibble, int offset, in Site site) =>
        throw site.Error(offset, $"pad nibble {d.PadNibble:X}", site.Sensitive ? "another nibble" : $"nibble {nibble:X}");

    private static ushort[] BuildPairs(bool decimalOnly)
    {
        var table = new ushort[256];
        for (var b = 0; b < 256; b++)
        {
            int hi = b >> 4, lo = b & 0xF;
            if (!decimalOnly || (hi <= 9 && lo <= 9))
            {
                Span<byte> chars = [(byte)(0x30 + hi), (byte)(0x30 + lo)];
                table[b] = MemoryMarshal.Read<ushort>(chars);
            }
        }

        return table;
    }

    private static byte[] BuildNibbles(ContentClass? strictClass)
    {
        var table = new byte[256];
        for (var c = 0; c < 256; c++)
        {
            var allowed = strictClass switch
            {
                ContentClass.Numeric => c is >= '0' and <= '9',
                ContentClass.Track2 => c is >= 0x30 and <= 0x3F or 'D',
                _ => true,
            };
            table[c] = !allowed ? (byte)0xFF : c == 'D' ? (byte)0xD : (byte)((c - 0x30) & 0xF);
        }

        return table;
    }
}
