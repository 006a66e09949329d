using System.Buffers;

namespace OrleansControl.Codec;

/// <summary>Allowed bytes per content class, as vectorised <see cref="SearchValues{T}"/>.</summary>
internal static class CharacterClasses
{
    private static readonly SearchValues<byte> Digits = SearchValues.Create("0123456789"u8);
    private static readonly SearchValues<byte> Alpha = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz "u8);
    private static readonly SearchValues<byte> AlphaNumeric = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 "u8);
    private static readonly SearchValues<byte> Printable = SearchValues.Create(Range(0x20, 0x7E));
    private static readonly SearchValues<byte> Track = SearchValues.Create([.. Range(0x30, 0x3F), (byte)'D']);
    private static readonly SearchValues<byte> Any = SearchValues.Create(Range(0x00, 0xFF));

    public static SearchValues<byte> For(ContentClass content) => content switch
    {
        ContentClass.Numeric => Digits,
        ContentClass.SignedAmount => Digits, // the sign byte is checked separately
        ContentClass.Alpha => Alpha,
        ContentClass.AlphaNumeric => AlphaNumeric,
        ContentClass.AlphaNumericSpecial => Printable,
        ContentClass.Track2 => Track,
        _ => Any,
    };

    /// <summary>Index of the first byte not allowed in the class, or -1.</summary>
    public static int IndexOfInvalid(FieldDefinition def, ReadOnlySpan<byte> value)
    {
        if (def.Content == ContentClass.SignedAmount)
        {
            if (value.IsEmpty)
            {
                return -1;
            }

            if (value[0] is not ((byte)'C' or (byte)'D'))
            {
                return 0;
            }

            var i = value[1..].IndexOfAnyExcept(Digits);
            return i < 0 ? -1 : i + 1;
        }

        return def.Content switch
        {
            ContentClass.Binary or ContentClass.Bitmap => -1,
            ContentClass.Numeric => value.IndexOfAnyExceptInRange((byte)'0', (byte)'9'),
            ContentClass.AlphaNumericSpecial => value.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E),
            _ => value.IndexOfAnyExcept(def.Allowed),
        };
    }

    public static string Describe(ContentClass content) => content switch
    {
        ContentClass.Numeric => "digits 0-9",
        ContentClass.Alpha => "letters or space",
        ContentClass.AlphaNumeric => "letters, digits or space",
        ContentClass.AlphaNumericSpecial => "printable ASCII",
        ContentClass.Track2 => "track characters 0x30-0x3F",
        ContentClass.SignedAmount => "'C' or 'D' then digits",
        _ => "bytes",
    };

    private static byte[] Range(int from, int to)
    {
        var a = new byte[to - from + 1];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = (byte)(from + i);
        }

        return a;
    }
}
