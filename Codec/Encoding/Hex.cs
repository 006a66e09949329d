namespace OrleansControl.Codec;

/// <summary>Strict upper-case hex: decoding rejects lower case so that unpack → pack is byte-identical.</summary>
internal static class Hex
{
    private static ReadOnlySpan<byte> Digits => "0123456789ABCDEF"u8;

    public static void Encode(ReadOnlySpan<byte> src, Span<byte> dest)
    {
        for (var i = 0; i < src.Length; i++)
        {
            dest[2 * i] = Digits[src[i] >> 4];
            dest[2 * i + 1] = Digits[src[i] & 0xF];
        }
    }

    /// <summary>Value of an upper-case hex digit, or -1.</summary>
    public static int Nibble(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Decodes pairs of hex digits; returns the index of the first bad character, or -1.</summary>
    public static int Decode(ReadOnlySpan<byte> src, Span<byte> dest)
    {
        for (var i = 0; i < dest.Length; i++)
        {
            var hi = Nibble(src[2 * i]);
            if (hi < 0)
            {
                return 2 * i;
            }

            var lo = Nibble(src[2 * i + 1]);
            if (lo < 0)
            {
                return 2 * i + 1;
            }

            dest[i] = (byte)(hi << 4 | lo);
        }

        return -1;
    }
}
