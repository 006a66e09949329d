using OrleansControl.Codec;
using OrleansControl.Codec.Testing;

namespace OrleansControl.Codec.Tests;

/// <summary>Test-side view of the shared sample messages plus spec helpers.</summary>
internal static class Samples
{
    public const string Pan = CodecSamples.Pan;
    public const string Track2 = CodecSamples.Track2;

    public static byte[] PinBlock => CodecSamples.PinBlock;

    public static byte[] IccData => CodecSamples.IccData;

    public static IsoMessage Authorization(MessageSpec spec) => CodecSamples.Authorization(spec);

    public static IsoMessage Echo(MessageSpec spec) => CodecSamples.Echo(spec);

    /// <summary>Builds a one-field spec from a JSON field definition (field 2 unless given).</summary>
    public static MessageSpec OneField(string fieldJson, string mti = "ascii", string bitmap = "binary", int number = 2) =>
        MessageSpec.Load($$"""
        {
          "name": "test",
          "mti": { "encoding": "{{mti}}" },
          "bitmap": { "encoding": "{{bitmap}}" },
          "fields": {
            "1": { "class": "bitmap" },
            "{{number}}": {{fieldJson}}
          }
        }
        """);

    public static IEnumerable<object[]> BuiltInSpecs() => MessageSpec.BuiltInNames.Select(n => new object[] { n });
}
