namespace OrleansControl.Codec;

/// <summary>EBCDIC code page 037 for printable ASCII (0x20–0x7E); other bytes do not map.</summary>
internal static class Ebcdic
{
    private static readonly byte[] ToEbcdic = BuildToEbcdic();
    private static readonly byte[] FromEbcdic = BuildFromEbcdic();

    /// <summary>EBCDIC for an ASCII byte, or 0 when it has none.</summary>
    public static byte Encode(byte ascii) => ToEbcdic[ascii];

    /// <summary>ASCII for an EBCDIC byte, or 0 when it is outside the printable set.</summary>
    public static byte Decode(byte ebcdic) => FromEbcdic[ebcdic];

    private static byte[] BuildToEbcdic()
    {
        var t = new byte[256];
        void Run(char first, char last, int code)
        {
            for (var c = first; c <= last; c++)
            {
                t[c] = (byte)(code + (c - first));
            }
        }

        Run('0', '9', 0xF0);
        Run('A', 'I', 0xC1);
        Run('J', 'R', 0xD1);
        Run('S', 'Z', 0xE2);
        Run('a', 'i', 0x81);
        Run('j', 'r', 0x91);
        Run('s', 'z', 0xA2);
        var specials = new (char Ascii, byte Code)[]
        {
            (' ', 0x40), ('.', 0x4B), ('<', 0x4C), ('(', 0x4D), ('+', 0x4E), ('|', 0x4F), ('&', 0x50), ('!', 0x5A),
            ('$', 0x5B), ('*', 0x5C), (')', 0x5D), (';', 0x5E), ('-', 0x60), ('/', 0x61), (',', 0x6B), ('%', 0x6C),
            ('_', 0x6D), ('>', 0x6E), ('?', 0x6F), ('`', 0x79), (':', 0x7A), ('#', 0x7B), ('@', 0x7C), ('\'', 0x7D),
            ('=', 0x7E), ('"', 0x7F), ('~', 0xA1), ('^', 0xB0), ('[', 0xBA), (']', 0xBB), ('{', 0xC0), ('}', 0xD0),
            ('\\', 0xE0),
        };
        foreach (var (ascii, code) in specials)
        {
            t[ascii] = code;
        }

        return t;
    }

    private static byte[] BuildFromEbcdic()
    {
        var f = new byte[256];
        for (var a = 0x20; a <= 0x7E; a++)
        {
            f[ToEbcdic[a]] = (byte)a;
        }

        return f;
    }
}
