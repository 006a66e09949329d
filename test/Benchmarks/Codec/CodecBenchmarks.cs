using System.Buffers;
using BenchmarkDotNet.Attributes;
using OrleansControl.Codec;
using OrleansControl.Codec.Testing;

namespace OrleansControl.Benchmarks.Codec;

/// <summary>
/// Pack, unpack and pack+unpack of (a) a 20-field 0200 authorization with PAN, track 2, PIN block and
/// BER-TLV field 55 and (b) an 0800 echo, per built-in 1987 dialect.
/// Run: dotnet run -c Release --project test/Benchmarks -- bdn --filter '*CodecBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly ArrayBufferWriter<byte> _writer = new(1024);
    private MessageSpec _spec = null!;
    private IsoMessage _authorization = null!;
    private IsoMessage _echo = null!;
    private byte[] _authorizationBytes = null!;
    private byte[] _echoBytes = null!;

    [Params("iso8583-1987-ascii", "iso8583-1987-binary")]
    public string Spec { get; set; } = "iso8583-1987-ascii";

    [GlobalSetup]
    public void Setup()
    {
        _spec = MessageSpec.BuiltIn(Spec);
        _authorization = CodecSamples.Authorization(_spec);
        _echo = CodecSamples.Echo(_spec);
        _authorizationBytes = _spec.Pack(_authorization);
        _echoBytes = _spec.Pack(_echo);
    }

    [Benchmark]
    public int Pack_0200()
    {
        _writer.ResetWrittenCount();
        _spec.Pack(_authorization, _writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public IsoMessage Unpack_0200() => _spec.Unpack(_authorizationBytes);

    [Benchmark]
    public IsoMessage PackUnpack_0200()
    {
        _writer.ResetWrittenCount();
        _spec.Pack(_authorization, _writer);
        return _spec.Unpack(_writer.WrittenSpan);
    }

    [Benchmark]
    public int Pack_0800()
    {
        _writer.ResetWrittenCount();
        _spec.Pack(_echo, _writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public IsoMessage Unpack_0800() => _spec.Unpack(_echoBytes);

    [Benchmark]
    public IsoMessage PackUnpack_0800()
    {
        _writer.ResetWrittenCount();
        _spec.Pack(_echo, _writer);
        return _spec.Unpack(_writer.WrittenSpan);
    }
}
