using System.Buffers;
using BenchmarkDotNet.Attributes;
using OrleansControl.Codec;
using OrleansControl.Codec.Testing;

namespace OrleansControl.Benchmarks.Codec;

/// <summary>
/// Frame write (header + payload copy, and header + pack in place) and frame read (cut one frame off a buffer).
/// Run: dotnet run -c Release --project test/Benchmarks -- bdn --filter '*FramingBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
public class FramingBenchmarks
{
    private readonly ArrayBufferWriter<byte> _writer = new(1024);
    private LengthPrefixFraming _framing = null!;
    private MessageSpec _spec = null!;
    private IsoMessage _authorization = null!;
    private byte[] _payload = null!;
    private ReadOnlySequence<byte> _stream;

    [Params("binary2", "ascii4")]
    public string Header { get; set; } = "binary2";

    [GlobalSetup]
    public void Setup()
    {
        _framing = LengthPrefixFraming.Parse(Header);
        _spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        _authorization = CodecSamples.Authorization(_spec);
        _payload = _spec.Pack(_authorization);
        var w = new ArrayBufferWriter<byte>();
        _framing.WriteFrame(w, _payload);
        _stream = new ReadOnlySequence<byte>(w.WrittenMemory.ToArray());
    }

    [Benchmark]
    public int WriteFrame()
    {
        _writer.ResetWrittenCount();
        _framing.WriteFrame(_writer, _payload);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public long ReadFrame()
    {
        var buffer = _stream;
        return _framing.TryReadFrame(ref buffer, out var frame) ? frame.Length : -1;
    }

    [Benchmark]
    public int WriteMessage_0200()
    {
        _writer.ResetWrittenCount();
        _framing.WriteMessage(_writer, _spec, _authorization);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public IsoMessage ReadFrameAndUnpack_0200()
    {
        var buffer = _stream;
        _framing.TryReadFrame(ref buffer, out var frame);
        return _spec.Unpack(frame);
    }
}
