using OrleansControl.Codec;

namespace OrleansControl.Codec.Testing;

/// <summary>
/// Realistic messages shared by the codec tests, benchmarks and fuzzer (linked into test/Codec.Tests):
/// a 0200/1100 authorization with 20 fields including PAN, track 2, PIN block and EMV data, and an 0800/1804 echo.
/// </summary>
internal static class CodecSamples
{
    public const string Pan = "4761739001010119";
    public const string Track2 = "4761739001010119=25122011143804489";

    public static readonly byte[] PinBlock = Convert.FromHexString("8D3A6C0F11E2B94A");

    // EMV data with a proprietary (unknown) tag DF8101, a PAN tag 5A and a track 2 equivalent 57.
    public static readonly byte[] IccData = new TlvBuilder()
        .Add(0x9F26, "0123456789ABCDEF")
        .Add(0x9F27, "80")
        .Add(0x9F10, "06010A03A00000")
        .Add(0x9F37, "1A2B3C4D")
        .Add(0x9F36, "0042")
        .Add(0x95, "0000008000")
        .Add(0x9A, "251125")
        .Add(0x9C, "00")
        .Add(0x9F02, "000000001000")
        .Add(0x5F2A, "0826")
        .Add(0x82, "1980")
        .Add(0x5A, "4761739001010119")
        .Add(0x57, "4761739001010119D2512201114380448F")
        .Add(0xDF8101, "CAFEBABE")
        .ToArray();

    public static bool Is1993(MessageSpec spec) => spec.Name.Contains("1993", StringComparison.Ordinal);

    public static IsoMessage Authorization(MessageSpec spec)
    {
        var is93 = Is1993(spec);
        return spec.CreateMessage(is93 ? 1100 : 200)
            .Set(2, Pan)
            .Set(3, "000000")
            .Set(4, 1000)
            .Set(7, "1125175301")
            .Set(11, "004711")
            .Set(12, is93 ? "251125175301" : "175301")
            .Set(14, "2512")
            .Set(18, "5411")
            .Set(19, "826")
            .Set(22, is93 ? "A10101654140" : "051")
            .Set(25, is93 ? "1508" : "00")
            .Set(32, "12345678")
            .Set(35, Track2)
            .Set(37, "533017004711")
            .Set(41, "TERM0001")
            .Set(42, "MERCHANT0000001")
            .Set(43, is93 ? "ACME STORES\\LONDON\\GB" : "ACME STORES              LONDON       GB")
            .Set(49, "826")
            .Set(52, PinBlock)
            .Set(55, IccData);
    }

    public static IsoMessage Echo(MessageSpec spec)
    {
        var is93 = Is1993(spec);
        return spec.CreateMessage(is93 ? 1804 : 800)
            .Set(7, "1125175301")
            .Set(11, "004712")
            .Set(is93 ? 24 : 70, is93 ? "831" : "301");
    }

    /// <summary>Packed seeds for the fuzzer: authorization, echo, and (1993) a message using the tertiary bitmap.</summary>
    public static IReadOnlyList<byte[]> FuzzSeeds(MessageSpec spec)
    {
        var seeds = new List<byte[]> { spec.Pack(Authorization(spec)), spec.Pack(Echo(spec)) };
        var response = Authorization(spec).Set(39, Is1993(spec) ? "000" : "00").Set(38, "A1B2C3");
        response.Mti = response.Mti.ToResponse();
        seeds.Add(spec.Pack(response));
        if (spec.HasTertiaryBitmap)
        {
            seeds.Add(spec.Pack(Echo(spec).Set(130, "PRIVATE DATA").Set(192, new byte[8])));
        }

        return seeds;
    }
}
