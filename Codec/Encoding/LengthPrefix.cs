namespace OrleansControl.Codec;

/// <summary>
/// Variable-length prefixes (LL, LLL, LLLL, LLLLLL). The prefix counts the value's logical units:
/// digits for n/z, characters for text, bytes for b. Binary and hex prefixes use (digits + 1) / 2 bytes.
/// </summary>
internal static class LengthPrefix
{
    public static int ByteLength(FieldEncoding encoding, int digits) => digits == 0 ? 0 : encoding switch
    {
        FieldEncoding.Ascii or FieldEncoding.Ebcdic => digits,
        FieldEncoding.Bcd or FieldEncoding.Binary => (digits + 1) / 2,
        FieldEncoding.Hex => 2 * ((digits + 1) / 2),
        _ => throw new ArgumentOutOfRangeException(nameof(encoding)),
    };

    /// <summary>Largest length the prefix can express.</summary>
    public static long Capacity(FieldEncoding encoding, int digits) => encoding switch
    {
        FieldEncoding.Binary or FieldEncoding.Hex => (1L << (8 * ((digits + 1) / 2))) - 1,
        _ => (long)Math.Pow(10, digits) - 1,
    };

    public static void Write(FieldEncoding encoding, int digits, int length, Span<byte> dest)
    {
        switch (encoding)
        {
            case FieldEncoding.Ascii:
            case FieldEncoding.Ebcdic:
                var baseChar = encoding == FieldEncoding.Ascii ? 0x30 : 0xF0;
                for (var i = digits - 1; i >= 0; i--)
                {
                    dest[i] = (byte)(baseChar + length % 10);
                    length /= 10;
                }

                break;
            case FieldEncoding.Bcd:
                for (var i = (digits + 1) / 2 - 1; i >= 0; i--)
                {
                    var lo = length % 10;
                    length /= 10;
                    var hi = length % 10;
                    length /= 10;
                    dest[i] = (byte)(hi << 4 | lo);
                }

                break;
            case FieldEncoding.Binary:
                for (var i = (digits + 1) / 2 - 1; i >= 0; i--)
                {
                    dest[i] = (byte)length;
                    length >>= 8;
                }

                break;
            case FieldEncoding.Hex:
                // The binary prefix's bytes, each as two upper-case hex characters.
                for (var i = 2 * ((digits + 1) / 2) - 1; i >= 0; i--)
                {
                    dest[i] = "0123456789ABCDEF"u8[length & 0xF];
                    length >>= 4;
                }

                break;
        }
    }

    /// <summary>Reads a prefix; returns the index of the first bad byte within it, or -1 with the length.</summary>
    public static int Read(FieldEncoding encoding, int digits, ReadOnlySpan<byte> src, out int length)
    {
        length = 0;
        switch (encoding)
        {
            case FieldEncoding.Ascii:
            case FieldEncoding.Ebcdic:
                var baseChar = encoding == FieldEncoding.Ascii ? 0x30 : 0xF0;
                for (var i = 0; i < digits; i++)
                {
                    var d = src[i] - baseChar;
                    if ((uint)d > 9)
                    {
                        return i;
                    }

                    length = length * 10 + d;
                }

                return -1;
            case FieldEncoding.Bcd:
                var bytes = (digits + 1) / 2;
                for (var i = 0; i < bytes; i++)
                {
                    int hi = src[i] >> 4, lo = src[i] & 0xF;
                    // An odd digit count leaves one leading pad nibble, which must be zero.
                    if (hi > 9 || lo > 9 || (i == 0 && digits % 2 == 1 && hi != 0))
                    {
                        return i;
                    }

                    length = length * 100 + hi * 10 + lo;
                }

                return -1;
            case FieldEncoding.Binary:
                for (var i = 0; i < (digits + 1) / 2; i++)
                {
                    length = length << 8 | src[i];
                }

                return -1;
            case FieldEncoding.Hex:
                var count = (digits + 1) / 2;
                for (var i = 0; i < 2 * count; i++)
                {
                    var nib = Hex.Nibble(src[i]);
                    if (nib < 0)
                    {
                        return i;
                    }

                    length = length << 4 | nib;
                }

                return -1;
            default:
                return 0;
        }
    }
}
