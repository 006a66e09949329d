using OrleansControl.Codec;

namespace OrleansControl.Codec.Tests;

public sealed class MaskingTests
{
    private static readonly string PinHex = Convert.ToHexString(Samples.PinBlock);

    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Describe_shows_pan_as_first6_last4_and_hides_track_and_pin(string specName)
    {
        var spec = MessageSpec.BuiltIn(specName);
        var m = spec.Unpack(spec.Pack(Samples.Authorization(spec)));

        var text = m.Describe();

        Assert.Contains("476173******0119", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Samples.Pan, text, StringComparison.Ordinal);
        Assert.DoesNotContain("=2512", text, StringComparison.Ordinal);        // track 2 body
        Assert.DoesNotContain(PinHex, text, StringComparison.Ordinal);
        Assert.Contains("[hidden, 34 characters]", text, StringComparison.Ordinal); // field 35
        Assert.Contains("[hidden, 8 bytes]", text, StringComparison.Ordinal);       // field 52
        Assert.Contains("TERM0001", text, StringComparison.Ordinal);                // ordinary fields stay readable
        Assert.Equal(text, m.ToString());
    }

    [Fact]
    public void Describe_masks_pan_and_hides_track2_equivalent_inside_emv_data()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var text = Samples.Authorization(spec).Describe();

        Assert.Contains("5A=476173******0119", text, StringComparison.Ordinal);
        Assert.Contains("57=[hidden, 17 bytes]", text, StringComparison.Ordinal);
        Assert.Contains("DF8101=CAFEBABE", text, StringComparison.Ordinal);  // unknown tags are shown
        Assert.DoesNotContain("4761739001010119D", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_hides_track1_track3_and_fields_the_dialect_marks_secret()
    {
        var spec = MessageSpec.Load("""
        {
          "name": "cvv-dialect",
          "fields": {
            "2": { "class": "n", "length": "LL", "max": 19, "sensitivity": "pan" },
            "36": { "class": "z", "length": "LLL", "max": 104, "sensitivity": "secret" },
            "45": { "class": "ans", "length": "LL", "max": 76, "sensitivity": "secret" },
            "48": { "class": "ans", "length": "LLL", "max": 999, "sensitivity": "secret", "name": "CVV2 data" }
          }
        }
        """);
        var m = spec.CreateMessage(100)
            .Set(2, "5413330089010608")
            .Set(36, "011234567890123445=724724000000000000030000020200099010=00000000000000000000=1=1000000000000000000")
            .Set(45, "B5413330089010608^DOE/JOHN^2512201")
            .Set(48, "CVV2=123");

        var text = spec.Unpack(spec.Pack(m)).Describe();

        Assert.Contains("541333******0608", text, StringComparison.Ordinal);
        Assert.DoesNotContain("DOE/JOHN", text, StringComparison.Ordinal);
        Assert.DoesNotContain("CVV2=123", text, StringComparison.Ordinal);
        Assert.DoesNotContain("724724", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4111111111111111", "411111******1111")]
    [InlineData("4761739001010119123", "476173*********9123")]
    [InlineData("1234567890123", "123456***0123")]
    [InlineData("123456789012", "************")]
    public void Pan_mask_keeps_only_first6_and_last4(string pan, string masked) =>
        Assert.Equal(masked, MessageDescriber.MaskPan(pan));

    [Fact]
    public void Fields_not_in_the_spec_show_only_their_length()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var m = spec.CreateMessage(200).Set(2, Samples.Pan);
        var other = MessageSpec.Load("""{ "name": "x", "fields": { "3": { "class": "n", "max": 6 } } }""");
        var foreign = other.CreateMessage(200).Set(2, Samples.Pan);
        Assert.DoesNotContain(Samples.Pan, foreign.Describe(), StringComparison.Ordinal);
        Assert.DoesNotContain(Samples.Pan, m.Describe(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Exception_text_never_contains_the_pan_track_or_pin(string specName)
    {
        var spec = MessageSpec.BuiltIn(specName);
        var bytes = spec.Pack(Samples.Authorization(spec));
        var random = new Random(12345);
        var failures = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var mutated = (byte[])bytes.Clone();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            }

            try
            {
                spec.Unpack(mutated);
            }
            catch (Iso8583Exception e)
            {
                failures++;
                Assert.DoesNotContain(Samples.Pan[..12], e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain("2512201114", e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(PinHex[..8], e.Message, StringComparison.Ordinal);
            }
        }

        Assert.True(failures > 1000, $"only {failures} mutations failed");
    }

    [Fact]
    public void Pack_error_on_a_pan_does_not_echo_the_bad_character()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var m = spec.CreateMessage(200).Set(2, "47617390X1010119");
        var ex = Assert.Throws<Iso8583Exception>(() => spec.Pack(m));
        Assert.Equal(2, ex.Field);
        Assert.DoesNotContain("X", ex.Found, StringComparison.Ordinal);
        Assert.DoesNotContain("0x58", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("4761739", ex.Message, StringComparison.Ordinal);
    }
}
