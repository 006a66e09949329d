using OrleansControl.Codec;

namespace OrleansControl.Codec.Testing;

/// <summary>What one fuzz input did.</summary>
internal enum FuzzOutcome
{
    /// <summary>Unpacked, re-packed byte-identically and described.</summary>
    Unpacked,

    /// <summary>Rejected with <see cref="Iso8583Exception"/>.</summary>
    Rejected,
}

/// <summary>A fuzz input broke the codec's contract; carries the seed, iteration and input to reproduce it.</summary>
internal sealed class FuzzFailure(string message, Exception? inner) : Exception(message, inner);

/// <summary>
/// Seeded, reproducible robustness check: mutated valid messages and random bytes must each either unpack
/// (and then re-pack to the very same bytes) or raise <see cref="Iso8583Exception"/> — nothing else.
/// Shared by test/Codec.Tests (100,000 inputs per spec per run) and the `fuzz` load tool (millions).
/// </summary>
internal sealed class CodecFuzzer
{
    private static readonly byte[] Interesting = [0x00, 0xFF, 0x7F, 0x80, 0x30, 0x39, 0x3D, 0x41, 0x46, 0x20, 0x99, 0x9F, 0x1F, 0x81, 0x82, 0x83];
    private readonly MessageSpec _spec;
    private readonly IReadOnlyList<byte[]> _seeds;
    private readonly Random _random;
    private readonly byte[] _buffer = new byte[4096];

    public CodecFuzzer(MessageSpec spec, int seed)
        : this(spec, CodecSamples.FuzzSeeds(spec), seed)
    {
    }

    public CodecFuzzer(MessageSpec spec, IReadOnlyList<byte[]> seeds, int seed)
    {
        _spec = spec;
        _seeds = seeds;
        Seed = seed;
        _random = new Random(seed);
    }

    public int Seed { get; }

    public long Iteration { get; private set; }

    /// <summary>Generates and checks the next input; throws <see cref="FuzzFailure"/> on a contract violation.</summary>
    public FuzzOutcome RunOne()
    {
        var input = NextInput();
        Iteration++;
        return Check(input);
    }

    public FuzzOutcome Check(ReadOnlySpan<byte> input)
    {
        IsoMessage message;
        try
        {
            message = _spec.Unpack(input);
        }
        catch (Iso8583Exception)
        {
            return FuzzOutcome.Rejected;
        }
        catch (Exception e)
        {
            throw Failure(input, $"unpack threw {e.GetType().Name}", e);
        }

        try
        {
            var repacked = _spec.Pack(message);
            if (!input.SequenceEqual(repacked))
            {
                throw Failure(input, $"re-pack differs: {Convert.ToHexString(repacked)}", null);
            }

            _ = message.Describe();
        }
        catch (FuzzFailure)
        {
            throw;
        }
        catch (Exception e)
        {
            throw Failure(input, $"re-pack or describe of an accepted message threw {e.GetType().Name}", e);
        }

        return FuzzOutcome.Unpacked;
    }

    private FuzzFailure Failure(ReadOnlySpan<byte> input, string what, Exception? inner) =>
        new($"{_spec.Name}: {what}; seed {Seed}, iteration {Iteration}, input {Convert.ToHexString(input)}", inner);

    private ReadOnlySpan<byte> NextInput()
    {
        var r = _random;
        var seed = _seeds[r.Next(_seeds.Count)];
        var kind = r.Next(10);
        if (kind == 0)
        {
            // Pure random bytes.
            var n = r.Next(0, 300);
            r.NextBytes(_buffer.AsSpan(0, n));
            return _buffer.AsSpan(0, n);
        }

        if (kind == 1)
        {
            // A real MTI and bitmap followed by random bytes: exercises every field parser on garbage.
            var head = Math.Min(seed.Length, r.Next(4, 40));
            seed.AsSpan(0, head).CopyTo(_buffer);
            var n = r.Next(0, 200);
            r.NextBytes(_buffer.AsSpan(head, n));
            return _buffer.AsSpan(0, head + n);
        }

        var length = seed.Length;
        seed.CopyTo(_buffer, 0);
        for (var m = r.Next(1, 4); m > 0; m--)
        {
            length = Mutate(r, length, kind);
            kind = r.Next(2, 10);
        }

        return _buffer.AsSpan(0, length);
    }

    private int Mutate(Random r, int length, int kind)
    {
        var buf = _buffer;
        if (length == 0)
        {
            return 0;
        }

        var at = r.Next(length);
        switch (kind)
        {
            case 2: // random byte
                buf[at] = (byte)r.Next(256);
                return length;
            case 3: // interesting byte
                buf[at] = Interesting[r.Next(Interesting.Length)];
                return length;
            case 4: // bit flip, biased towards MTI/bitmap/prefix area
                at = r.Next(2) == 0 ? r.Next(Math.Min(length, 40)) : at;
                buf[at] ^= (byte)(1 << r.Next(8));
                return length;
            case 5: // truncate
                return at;
            case 6: // insert random bytes
                {
                    var n = Math.Min(r.Next(1, 9), buf.Length - length);
                    Array.Copy(buf, at, buf, at + n, length - at);
                    r.NextBytes(buf.AsSpan(at, n));
                    return length + n;
                }

            case 7: // delete a range
                {
                    var n = Math.Min(r.Next(1, 9), length - at);
                    Array.Copy(buf, at + n, buf, at, length - at - n);
                    return length - n;
                }

            case 8: // splice the tail of another seed
                {
                    var other = _seeds[r.Next(_seeds.Count)];
                    var from = r.Next(other.Length);
                    var n = Math.Min(other.Length - from, buf.Length - at);
                    other.AsSpan(from, n).CopyTo(buf.AsSpan(at));
                    return at + n;
                }

            default: // digit change (keeps many inputs valid, reaching deeper fields)
                buf[at] = (byte)('0' + r.Next(10));
                return length;
        }
    }
}
