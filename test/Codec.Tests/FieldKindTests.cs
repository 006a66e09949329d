using OrleansControl.Codec;

namespace OrleansControl.Codec.Tests;

/// <summary>Each content class, length kind, prefix encoding and value encoding: exact wire bytes and round trip.</summary>
public sealed class FieldKindTests
{
    // Field 2 of a one-field spec: MTI "0200" (4 bytes) + binary bitmap (8 bytes), then the field.
    private const int FieldStart = 12;

    [Theory]
    // numeric, fixed, ASCII: zero-padded on the left
    [InlineData("""{ "class": "n", "max": 6 }""", "123", "303030313233", "000123")]
    // numeric, fixed, BCD: even and odd digit counts, right- and left-justified
    [InlineData("""{ "class": "n", "max": 6, "encoding": "bcd" }""", "123456", "123456", null)]
    [InlineData("""{ "class": "n", "max": 5, "encoding": "bcd" }""", "12345", "012345", null)]
    [InlineData("""{ "class": "n", "max": 5, "encoding": "bcd", "pad": "right" }""", "12345", "123450", null)]
    [InlineData("""{ "class": "n", "max": 4, "encoding": "bcd" }""", "7", "0007", "0007")]
    // variable numeric with every prefix encoding
    [InlineData("""{ "class": "n", "length": "LL", "max": 19, "prefix": "bcd", "encoding": "bcd" }""", "123", "030123", null)]
    [InlineData("""{ "class": "n", "length": "LL", "max": 19, "prefix": "bcd", "encoding": "bcd", "pad": "right", "padChar": "F" }""", "123", "03123F", null)]
    [InlineData("""{ "class": "n", "length": "LLL", "max": 999 }""", "12345", "3030353132333435", null)]
    [InlineData("""{ "class": "n", "length": "LLL", "max": 999, "prefix": "bcd" }""", "12", "00023132", null)]
    [InlineData("""{ "class": "n", "length": "LLLL", "max": 9999, "prefix": "binary" }""", "12", "00023132", null)]
    [InlineData("""{ "class": "n", "length": "LLLLLL", "max": 99999, "prefix": "ebcdic" }""", "12", "F0F0F0F0F0F23132", null)]
    [InlineData("""{ "class": "n", "length": "LL", "max": 99, "prefix": "ebcdic", "encoding": "ebcdic" }""", "12", "F0F2F1F2", null)]
    [InlineData("""{ "class": "n", "length": "LL", "max": 99, "prefix": "hex" }""", "12", "30323132", null)]
    [InlineData("""{ "class": "n", "length": "LL", "max": 99, "prefix": "binary" }""", "", "00", null)]
    // text classes, fixed ones space-padded on the right, EBCDIC
    [InlineData("""{ "class": "a", "max": 5 }""", "AB", "4142202020", "AB   ")]
    [InlineData("""{ "class": "an", "max": 4, "encoding": "ebcdic" }""", "A1", "C1F14040", "A1  ")]
    [InlineData("""{ "class": "ans", "length": "LL", "max": 25, "encoding": "ebcdic" }""", "a=[b]", "3035817EBA82BB", null)]
    [InlineData("""{ "class": "ans", "length": "LL", "max": 25 }""", "Hi, @you!", "30394869", null)]
    // track 2: '=' separator is nibble D, odd length padded with F
    [InlineData("""{ "class": "z", "length": "LL", "max": 37, "prefix": "bcd", "encoding": "bcd" }""", "1234=56", "071234D56F", null)]
    [InlineData("""{ "class": "z", "length": "LL", "max": 37 }""", "1234=56", "303731323334", null)]
    [InlineData("""{ "class": "track2", "length": "LL", "max": 37 }""", "1234D56", "30373132333444", null)]
    // x+n amounts: sign then digits, ASCII or sign byte + BCD
    [InlineData("""{ "class": "xn", "max": 9 }""", "C00001000", "433030303031303030", null)]
    [InlineData("""{ "class": "xn", "max": 9, "encoding": "bcd" }""", "D00001000", "4400001000", null)]
    [InlineData("""{ "class": "x+n", "length": "LL", "max": 17, "prefix": "bcd", "encoding": "bcd" }""", "C123", "04430123", null)]
    public void Text_and_digit_fields_encode_exactly_and_round_trip(string fieldJson, string value, string fieldHexPrefix, string? logical)
    {
        var spec = Samples.OneField(fieldJson);
        var bytes = spec.Pack(spec.CreateMessage(200).Set(2, value));

        Assert.StartsWith(fieldHexPrefix, Convert.ToHexString(bytes[FieldStart..]), StringComparison.Ordinal);
        var back = spec.Unpack(bytes);
        Assert.Equal(logical ?? value, back.GetString(2));
        Assert.Equal(bytes, spec.Pack(back));
    }

    [Theory]
    [InlineData("""{ "class": "b", "max": 4 }""", "CAFEBABE", "CAFEBABE")]
    [InlineData("""{ "class": "b", "max": 4, "encoding": "hex" }""", "CAFEBABE", "4341464542414245")]
    [InlineData("""{ "class": "b", "length": "LLL", "max": 255, "prefix": "binary" }""", "01FF", "000201FF")]
    [InlineData("""{ "class": "b", "length": "LLL", "max": 999, "encoding": "hex" }""", "01FF", "30303230314646")]
    [InlineData("""{ "class": "b", "length": "LL", "max": 255, "prefix": "hex", "encoding": "hex" }""", "0A", "30313041")]
    [InlineData("""{ "class": "b", "length": "LLLLLL", "max": 999999, "prefix": "bcd" }""", "00", "00000100")]
    public void Binary_fields_encode_exactly_and_round_trip(string fieldJson, string valueHex, string fieldHex)
    {
        var spec = Samples.OneField(fieldJson);
        var value = Convert.FromHexString(valueHex);
        var bytes = spec.Pack(spec.CreateMessage(200).Set(2, value));

        Assert.Equal(fieldHex, Convert.ToHexString(bytes[FieldStart..]));
        var back = spec.Unpack(bytes);
        Assert.Equal(value, back.GetBytes(2).ToArray());
        Assert.Equal(bytes, spec.Pack(back));
    }

    [Theory]
    [InlineData("ascii", "30323030")]
    [InlineData("bcd", "0200")]
    [InlineData("ebcdic", "F0F2F0F0")]
    public void Mti_encodings_round_trip(string encoding, string mtiHex)
    {
        var spec = Samples.OneField("""{ "class": "n", "max": 2 }""", mti: encoding);
        var bytes = spec.Pack(spec.CreateMessage(200).Set(2, "12"));
        Assert.StartsWith(mtiHex, Convert.ToHexString(bytes), StringComparison.Ordinal);
        Assert.Equal(new Mti(200), spec.Unpack(bytes).Mti);
    }

    [Theory]
    [InlineData("""{ "class": "n", "max": 3 }""", "1234")]
    [InlineData("""{ "class": "n", "length": "LL", "max": 3 }""", "1234")]
    [InlineData("""{ "class": "n", "max": 3 }""", "12A")]
    [InlineData("""{ "class": "a", "max": 3 }""", "A1")]
    [InlineData("""{ "class": "an", "max": 3 }""", "A-")]
    [InlineData("""{ "class": "ans", "length": "LL", "max": 9 }""", "tab\there")]
    [InlineData("""{ "class": "z", "length": "LL", "max": 9 }""", "12^34")]
    [InlineData("""{ "class": "xn", "max": 5 }""", "X1234")]
    [InlineData("""{ "class": "xn", "max": 5 }""", "C12")]
    [InlineData("""{ "class": "n", "max": 4, "encoding": "bcd" }""", "12A4")]
    [InlineData("""{ "class": "n", "max": 3, "encoding": "bcd" }""", "1:3")]
    [InlineData("""{ "class": "n", "max": 6, "encoding": "bcd" }""", "1A")]
    [InlineData("""{ "class": "n", "length": "LL", "max": 19, "prefix": "bcd", "encoding": "bcd" }""", "47617390010101 9")]
    [InlineData("""{ "class": "z", "length": "LL", "max": 37, "prefix": "bcd", "encoding": "bcd" }""", "4761=2512^1")]
    [InlineData("""{ "class": "xn", "max": 7, "encoding": "bcd" }""", "C12345X")]
    public void Pack_rejects_values_the_definition_does_not_allow(string fieldJson, string value)
    {
        var spec = Samples.OneField(fieldJson);
        var ex = Assert.Throws<Iso8583Exception>(() => spec.Pack(spec.CreateMessage(200).Set(2, value)));
        Assert.Equal(2, ex.Field);
        Assert.Equal(FieldStart, ex.Offset);
    }

    [Fact]
    public void Pack_rejects_a_short_fixed_binary_field()
    {
        var spec = Samples.OneField("""{ "class": "b", "max": 8 }""");
        var ex = Assert.Throws<Iso8583Exception>(() => spec.Pack(spec.CreateMessage(200).Set(2, new byte[7])));
        Assert.Contains("exactly 8 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Positional_subfields_compose_split_and_validate()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var def = spec[43]!;
        var value = def.ComposeSubfields("ACME STORES", "LONDON", "GB");
        Assert.Equal("ACME STORES              LONDON       GB", System.Text.Encoding.ASCII.GetString(value));

        var parts = def.ReadSubfields(value);
        Assert.Equal(["ACME STORES              ", "LONDON       ", "GB"], parts.Select(p => System.Text.Encoding.ASCII.GetString(p.Span)));

        var bad = spec.Pack(spec.CreateMessage(200).Set(43, "ACME STORES              LONDON       G1"));
        var ex = Assert.Throws<Iso8583Exception>(() => spec.Unpack(bad));
        Assert.Equal(43, ex.Field);
        Assert.Contains("subfield 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Variable_subfields_may_omit_trailing_ones_but_not_cut_one_short()
    {
        var spec = MessageSpec.Load("""
        { "name": "sub", "fields": { "48": { "class": "ans", "length": "LLL", "max": 999, "format": "subfields", "subfields": [
            { "name": "Kind", "class": "an", "max": 2 },
            { "name": "Ref", "class": "ans", "length": "LL", "max": 20 },
            { "name": "Code", "class": "n", "max": 3, "encoding": "ascii" } ] } } }
        """);
        var def = spec[48]!;
        Assert.Equal("AB05HELLO", System.Text.Encoding.ASCII.GetString(def.ComposeSubfields("AB", "HELLO")));
        Assert.Equal(2, def.ReadSubfields("AB05HELLO"u8.ToArray()).Count);
        Assert.Equal(3, def.ReadSubfields("AB05HELLO007"u8.ToArray()).Count);
        Assert.Throws<Iso8583Exception>(() => def.ReadSubfields("AB05HEL"u8.ToArray()));
        Assert.Throws<Iso8583Exception>(() => def.ReadSubfields("AB05HELLO0071"u8.ToArray()));
    }
}
