using OrleansControl.Codec;

namespace OrleansControl.Codec.Tests;

public sealed class SpecLoadingTests
{
    [Theory]
    [InlineData("""{ "name": "x", "fields": { "2": { "class": "q", "max": 3 } } }""", 2)]
    [InlineData("""{ "name": "x", "fields": { "2": { "class": "n", "max": 3, "colour": "red" } } }""", null)]
    [InlineData("""{ "name": "x", "fields": { "2": { "class": "n" } } }""", 2)]
    [InlineData("""{ "name": "x", "fields": { "2": { "class": "n", "length": "LL", "max": 100 } } }""", 2)]
    [InlineData("""{ "name": "x", "fields": { "2": { "class": "b", "length": "LL", "max": 256, "prefix": "binary" } } }""", 2)]
    [InlineData("""{ "name": "x", "fields": { "2": { "class": "ans", "max": 3, "encoding": "bcd" } } }""", 2)]
    [InlineData("""{ "name": "x", "fields": { "2": { "class": "n", "max": 3, "encoding": "hex" } } }""", 2)]
    [InlineData("""{ "name": "x", "fields": { "2": { "class": "n", "max": 3, "padChar": "X" } } }""", 2)]
    [InlineData("""{ "name": "x", "fields": { "5": { "class": "bitmap" } } }""", 5)]
    [InlineData("""{ "name": "x", "fields": { "1": { "class": "n", "max": 3 } } }""", 1)]
    [InlineData("""{ "name": "x", "fields": { "193": { "class": "n", "max": 3 } } }""", null)]
    [InlineData("""{ "name": "x", "fields": { "55": { "class": "ans", "length": "LLL", "max": 999, "format": "tlv" } } }""", 55)]
    [InlineData("""{ "name": "x", "fields": { "48": { "class": "ans", "length": "LLL", "max": 999, "format": "subfields" } } }""", 48)]
    [InlineData("""{ "name": "x", "mti": { "encoding": "binary" } }""", null)]
    [InlineData("""{ "fields": {} }""", null)]
    [InlineData("""{ "name": "x", "fields": { "2": """, null)]
    public void Load_rejects_invalid_specs_with_a_codec_exception(string json, int? field)
    {
        var ex = Assert.Throws<Iso8583Exception>(() => MessageSpec.Load(json));
        Assert.Equal(field, ex.Field);
        Assert.Contains("spec", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_dialect_is_only_a_json_file()
    {
        var spec = MessageSpec.Load("""
        {
          // comments and trailing commas are fine
          "name": "ebcdic-host",
          "mti": { "encoding": "ebcdic" },
          "bitmap": { "encoding": "binary" },
          "fields": {
            "2": { "name": "PAN", "class": "n", "length": "LL", "max": 19, "prefix": "ebcdic", "encoding": "ebcdic", "sensitivity": "pan" },
            "4": { "name": "Amount", "class": "n", "max": 12, "encoding": "ebcdic" },
            "43": { "name": "Merchant", "class": "ans", "max": 10, "encoding": "ebcdic" },
          },
        }
        """);
        var m = spec.CreateMessage(200).Set(2, Samples.Pan).Set(4, 250).Set(43, "Shop");
        var bytes = spec.Pack(m);
        Assert.Equal("F0F2F0F0", Convert.ToHexString(bytes[..4]));
        var back = spec.Unpack(bytes);
        Assert.Equal("Shop      ", back.GetString(43));
        Assert.Equal(250, back.GetInt64(4));
        Assert.Contains("476173******0119", back.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void BuiltIn_rejects_unknown_names()
    {
        var ex = Assert.Throws<ArgumentException>(() => MessageSpec.BuiltIn("iso8583-2003-klingon"));
        Assert.Contains("iso8583-1987-ascii", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Builtin_specs_flag_pan_track_and_pin_as_sensitive(string name)
    {
        var spec = MessageSpec.BuiltIn(name);
        Assert.Equal(Sensitivity.Pan, spec[2]!.Sensitivity);
        foreach (var n in new[] { 35, 36, 45, 52 })
        {
            Assert.Equal(Sensitivity.Secret, spec[n]!.Sensitivity);
        }

        Assert.Equal(FieldFormat.Tlv, spec[55]!.Format);
    }
}
