using OrleansControl.Codec;
using OrleansControl.Codec.Testing;
using Xunit.Abstractions;

namespace OrleansControl.Codec.Tests;

/// <summary>
/// A dialect using every encoding the built-in specs do not (EBCDIC MTI/prefix/values, hex and binary prefixes,
/// LLLL/LLLLLL, x+n in BCD, subfields of mixed encodings, tertiary bitmap): round trip and the robustness run.
/// </summary>
public sealed class ExoticSpecTests(ITestOutputHelper output)
{
    private static readonly MessageSpec Spec = MessageSpec.Load("""
    {
      "name": "exotic",
      "mti": { "encoding": "ebcdic" },
      "bitmap": { "encoding": "binary" },
      "fields": {
        "1": { "class": "bitmap" },
        "2": { "class": "n", "length": "LL", "max": 19, "prefix": "ebcdic", "encoding": "ebcdic", "sensitivity": "pan" },
        "3": { "class": "n", "max": 5, "encoding": "bcd" },
        "4": { "class": "xn", "length": "LL", "max": 17, "prefix": "binary", "encoding": "bcd" },
        "5": { "class": "z", "length": "LLL", "max": 104, "prefix": "hex", "encoding": "bcd", "pad": "right", "padChar": "F", "sensitivity": "secret" },
        "6": { "class": "b", "length": "LLLL", "max": 2000, "prefix": "bcd", "encoding": "hex", "format": "tlv", "panTags": ["5A"] },
        "7": { "class": "ans", "length": "LLLLLL", "max": 5000, "encoding": "ebcdic" },
        "8": { "class": "an", "max": 6, "encoding": "ebcdic" },
        "9": { "class": "a", "max": 4 },
        "10": { "class": "xn", "max": 9 },
        "11": { "class": "b", "max": 4 },
        "12": { "class": "b", "length": "LLL", "max": 300, "prefix": "binary", "format": "subfields", "subfields": [
          { "class": "n", "max": 3, "encoding": "bcd" },
          { "class": "ans", "length": "LL", "max": 20, "encoding": "ebcdic" },
          { "class": "b", "length": "LL", "max": 20, "prefix": "binary", "encoding": "hex" } ] },
        "13": { "class": "z", "length": "LL", "max": 37 },
        "14": { "class": "n", "length": "LLL", "max": 999, "prefix": "bcd", "encoding": "bcd", "pad": "right" },
        "65": { "class": "bitmap" },
        "130": { "class": "n", "max": 3, "encoding": "ebcdic" }
      }
    }
    """);

    private static IsoMessage Sample() => Spec.CreateMessage(1200)
        .Set(2, CodecSamples.Pan)
        .Set(3, 42)
        .Set(4, "D0000012345")
        .Set(5, "4761739001010119=2512201")
        .Set(6, CodecSamples.IccData)
        .Set(7, "Free text, with [brackets] & symbols!")
        .Set(8, "AB12")
        .Set(9, "XY")
        .Set(10, "C00001000")
        .Set(11, new byte[] { 0xDE, 0xAD, 0xBE, 0xEF })
        .Set(12, Spec[12]!.ComposeSubfields("7", "ebcdic text", "CAFE"))
        .Set(13, "123456=789")
        .Set(14, "12345")
        .Set(130, "826");

    [Fact]
    public void Every_encoding_round_trips_byte_exactly()
    {
        var bytes = Spec.Pack(Sample());
        var back = Spec.Unpack(bytes);

        Assert.Equal(bytes, Spec.Pack(back));
        Assert.Equal("F1F2F0F0", Convert.ToHexString(bytes[..4]));
        Assert.Equal("00042", back.GetString(3));
        Assert.Equal("AB12  ", back.GetString(8));
        Assert.Equal("4761739001010119=2512201", back.GetString(5));
        Assert.Equal(CodecSamples.IccData, back.GetBytes(6).ToArray());
        var subfields = Spec[12]!.ReadSubfields(back.GetBytes(12));
        Assert.Equal("007", System.Text.Encoding.ASCII.GetString(subfields[0].Span));
        Assert.Equal("ebcdic text", System.Text.Encoding.ASCII.GetString(subfields[1].Span));
        Assert.Equal("CAFE"u8.ToArray(), subfields[2].ToArray()); // a b subfield composed from text holds those bytes
        var text = back.Describe();
        Assert.DoesNotContain(CodecSamples.Pan, text, StringComparison.Ordinal);
        Assert.DoesNotContain("2512201", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_input_unpacks_or_raises_the_codec_exception()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("CODEC_FUZZ_SEED"), out var s) ? s : Random.Shared.Next();
        var seeds = new[] { Spec.Pack(Sample()), Spec.Pack(Sample().Set(7, "").Set(14, "1")), Spec.Pack(Spec.CreateMessage(1804).Set(130, "001")) };
        var fuzzer = new CodecFuzzer(Spec, seeds, seed);
        var unpacked = 0;
        try
        {
            for (var i = 0; i < 100_000; i++)
            {
                unpacked += fuzzer.RunOne() == FuzzOutcome.Unpacked ? 1 : 0;
            }
        }
        catch (FuzzFailure e)
        {
            output.WriteLine(e.ToString());
            Assert.Fail($"{e.Message} (replay with CODEC_FUZZ_SEED={seed})");
        }

        output.WriteLine($"exotic: seed {seed}, {unpacked} of 100000 unpacked");
        Assert.True(unpacked > 1000, $"only {unpacked} inputs unpacked (seed {seed})");
    }
}
