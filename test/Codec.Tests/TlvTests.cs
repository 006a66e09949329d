using OrleansControl.Codec;

namespace OrleansControl.Codec.Tests;

public sealed class TlvTests
{
    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Unknown_tags_padding_and_long_length_forms_repack_byte_identically(string specName)
    {
        // Proprietary DF8101, a constructed template 70 { 9F42 }, 00 padding, and a non-minimal 81 05 length.
        var icc = Convert.FromHexString("9F2608" + "0123456789ABCDEF" + "DF810104CAFEBABE" + "00" + "7005" + "9F42020826" + "00" + "9F0A8105" + "0102030405");
        var spec = MessageSpec.BuiltIn(specName);
        var bytes = spec.Pack(spec.CreateMessage(spec.Name.Contains("1993", StringComparison.Ordinal) ? 1100 : 100).Set(55, icc));

        var back = spec.Unpack(bytes);

        Assert.Equal(icc, back.GetBytes(55).ToArray());
        Assert.Equal(bytes, spec.Pack(back));
    }

    [Fact]
    public void Parse_gives_tags_values_and_raw_bytes()
    {
        var icc = Convert.FromHexString("9F2608" + "0123456789ABCDEF" + "DF810104CAFEBABE" + "7005" + "9F42020826" + "9F0A8105" + "0102030405");
        var elements = Tlv.Parse(icc);

        Assert.Equal(["9F26", "DF8101", "70", "9F0A"], elements.Select(e => e.TagHex));
        Assert.Equal("CAFEBABE", Convert.ToHexString(elements[1].Value.Span));
        Assert.True(elements[2].IsConstructed);
        Assert.Equal("9F42020826", Convert.ToHexString(elements[2].Value.Span));
        Assert.Equal("9F0A81050102030405", Convert.ToHexString(elements[3].Raw.Span));
        Assert.True(Tlv.TryFind(icc, 0x9F0A, out var found));
        Assert.Equal(5, found.Value.Length);
    }

    [Fact]
    public void Builder_writes_minimal_tags_and_lengths()
    {
        var bytes = new TlvBuilder().Add(0x9F02, "000000001000").Add(0x95, new byte[200]).ToArray();
        Assert.Equal("9F0206000000001000", Convert.ToHexString(bytes[..9]));
        Assert.Equal("9581C8", Convert.ToHexString(bytes[9..12]));
    }

    [Theory]
    [InlineData("9F")]          // tag cut short
    [InlineData("9F26")]        // no length
    [InlineData("9F2608AA")]    // value shorter than length
    [InlineData("9F2680")]      // indefinite length
    [InlineData("9F2684000000010000")] // 4-byte length form
    [InlineData("5A8201")]      // length bytes cut short
    [InlineData("9F8181818101")] // tag longer than 4 bytes
    public void Parse_rejects_malformed_objects(string hex) =>
        Assert.Throws<Iso8583Exception>(() => Tlv.Parse(Convert.FromHexString(hex)));
}
