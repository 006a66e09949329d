using System.Buffers;

namespace OrleansControl.Codec;

/// <summary>Strict upper-case hex: decoding rejects lower case so that unpack → pack is byte-identical.</summary>
internal static class Hex
{
    private static readonly SearchValues<byte> UpperHex = SearchValues.Create("0123456789ABCDEF"u8);

    /// <summary>Writes 2 × src.Length upper-case hex characters (vectorised).</summary>
    public static void Encode(ReadOnlySpan<byte> src, Span<byte> dest) =>
        Convert.TryToHexString(src, dest[..(2 * src.Length)], out _);

    /// <summary>Value of an upper-case hex digit, or -1.</summary>
    public static int Nibble(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// Decodes 2 × dest.Length hex characters; returns the index of the first bad character, or -1.
    /// <paramref name="dest"/> may start at the same address as <paramref name="src"/> (in-place decoding).
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> src, Span<byte> dest)
    {
        src = src[..(2 * dest.Length)];
        var bad = src.IndexOfAnyExcept(UpperHex);
        if (bad >= 0)
        {
            return bad;
        }

        if (dest.Length <= 256)
        {
            // Decode into a temporary, then copy: safe when dest overlaps src.
            Span<byte> temp = stackalloc byte[dest.Length];
            Convert.FromHexString(src, temp, out _, out _);
            temp.CopyTo(dest);
            return -1;
        }

        for (var i = 0; i < dest.Length; i++)
        {
            dest[i] = (byte)(Nibble(src[2 * i]) << 4 | Nibble(src[2 * i + 1]));
        }

        return -1;
    }
}
