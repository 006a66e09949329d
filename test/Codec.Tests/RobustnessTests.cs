using System.Diagnostics;
using OrleansControl.Codec;
using OrleansControl.Codec.Testing;
using Xunit.Abstractions;

namespace OrleansControl.Codec.Tests;

/// <summary>
/// At least 100,000 mutated and random inputs per built-in spec per run: each either unpacks (and re-packs
/// byte-identically) or raises Iso8583Exception. The seed is random per run (set CODEC_FUZZ_SEED to replay)
/// and is printed, with the failing input, on failure.
/// </summary>
public sealed class RobustnessTests(ITestOutputHelper output)
{
    private const int InputsPerSpec = 100_000;

    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Every_input_unpacks_or_raises_the_codec_exception(string specName)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("CODEC_FUZZ_SEED"), out var s) ? s : Random.Shared.Next();
        var fuzzer = new CodecFuzzer(MessageSpec.BuiltIn(specName), seed);
        var counts = new int[2];
        var clock = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < InputsPerSpec; i++)
            {
                counts[(int)fuzzer.RunOne()]++;
            }
        }
        catch (FuzzFailure e)
        {
            output.WriteLine(e.ToString());
            Assert.Fail($"{e.Message} (replay with CODEC_FUZZ_SEED={seed})");
        }

        output.WriteLine($"{specName}: seed {seed}, {InputsPerSpec} inputs in {clock.ElapsedMilliseconds} ms: " +
            $"{counts[0]} unpacked, {counts[1]} rejected");
        // Both outcomes must be common, or the fuzzer is not reaching the field parsers.
        Assert.True(counts[0] > InputsPerSpec / 100, $"only {counts[0]} inputs unpacked (seed {seed})");
        Assert.True(counts[1] > InputsPerSpec / 10, $"only {counts[1]} inputs rejected (seed {seed})");
    }

    [Fact]
    public void Framing_reads_any_byte_stream_without_other_exceptions()
    {
        var random = new Random(4242);
        var buffer = new byte[64];
        foreach (var name in new[] { "binary2", "ascii4", "bcd2", "binary4", "binary2-inclusive", "ascii4-inclusive" })
        {
            var framing = LengthPrefixFraming.Parse(name, maxFrameLength: 32, allowKeepAlive: random.Next(2) == 0);
            for (var i = 0; i < 20_000; i++)
            {
                random.NextBytes(buffer);
                var sequence = new System.Buffers.ReadOnlySequence<byte>(buffer, 0, random.Next(buffer.Length));
                try
                {
                    while (framing.TryReadFrame(ref sequence, out var frame))
                    {
                        Assert.InRange(frame.Length, 0, 32);
                    }
                }
                catch (Iso8583Exception)
                {
                }
            }
        }
    }
}
