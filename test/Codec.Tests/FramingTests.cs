using System.Buffers;
using System.IO.Pipelines;
using OrleansControl.Codec;

namespace OrleansControl.Codec.Tests;

public sealed class FramingTests
{
    private static readonly byte[] Payload = "HELLO"u8.ToArray();

    [Theory]
    [InlineData("binary2", "0005")]
    [InlineData("ascii4", "30303035")]
    [InlineData("bcd2", "0005")]
    [InlineData("binary4", "00000005")]
    [InlineData("binary2-inclusive", "0007")]
    [InlineData("ascii4-inclusive", "30303039")]
    [InlineData("bcd2-inclusive", "0007")]
    [InlineData("binary4-inclusive", "00000009")]
    public void Each_header_kind_writes_its_length_and_reads_the_frame_back(string name, string headerHex)
    {
        var framing = LengthPrefixFraming.Parse(name);
        var writer = new ArrayBufferWriter<byte>();
        framing.WriteFrame(writer, Payload);
        Assert.Equal(headerHex + Convert.ToHexString(Payload), Convert.ToHexString(writer.WrittenSpan));

        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(framing.TryReadFrame(ref buffer, out var frame));
        Assert.Equal(Payload, frame.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Bcd2_header_encodes_four_decimal_digits()
    {
        var framing = new LengthPrefixFraming(FrameHeader.Bcd2, 9999);
        var writer = new ArrayBufferWriter<byte>();
        framing.WriteFrame(writer, new byte[1234]);
        Assert.Equal([0x12, 0x34], writer.WrittenSpan[..2].ToArray());
    }

    [Theory]
    [InlineData(FrameHeader.Binary2)]
    [InlineData(FrameHeader.Ascii4)]
    [InlineData(FrameHeader.Bcd2)]
    [InlineData(FrameHeader.Binary4)]
    public void Frames_split_across_one_byte_segments_are_reassembled(FrameHeader header)
    {
        var framing = new LengthPrefixFraming(header);
        var writer = new ArrayBufferWriter<byte>();
        framing.WriteFrame(writer, Payload);
        framing.WriteKeepAlive(writer);
        framing.WriteFrame(writer, "WORLD!"u8);
        var bytes = writer.WrittenSpan.ToArray();

        var buffer = Segments.OneBytePerSegment(bytes);
        Assert.True(framing.TryReadFrame(ref buffer, out var first));
        Assert.True(framing.TryReadFrame(ref buffer, out var keepAlive));
        Assert.True(framing.TryReadFrame(ref buffer, out var second));
        Assert.False(framing.TryReadFrame(ref buffer, out _));
        Assert.Equal(Payload, first.ToArray());
        Assert.True(keepAlive.IsEmpty);
        Assert.Equal("WORLD!"u8.ToArray(), second.ToArray());
    }

    [Fact]
    public void Incomplete_frames_wait_for_more_bytes_without_consuming()
    {
        var framing = new LengthPrefixFraming(FrameHeader.Binary2);
        var writer = new ArrayBufferWriter<byte>();
        framing.WriteFrame(writer, Payload);
        for (var cut = 0; cut < writer.WrittenCount; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory[..cut]);
            Assert.False(framing.TryReadFrame(ref buffer, out _));
            Assert.Equal(cut, buffer.Length);
        }
    }

    [Fact]
    public void Zero_length_frame_is_a_keep_alive_or_an_error_when_the_dialect_has_none()
    {
        var keepAlive = new ReadOnlySequence<byte>(new byte[] { 0, 0 });
        var buffer = keepAlive;
        Assert.True(new LengthPrefixFraming(FrameHeader.Binary2).TryReadFrame(ref buffer, out var frame));
        Assert.True(frame.IsEmpty);

        buffer = keepAlive;
        var strict = new LengthPrefixFraming(FrameHeader.Binary2, allowKeepAlive: false);
        Assert.Throws<Iso8583Exception>(() => strict.TryReadFrame(ref buffer, out _));
    }

    [Fact]
    public void Header_over_max_frame_length_is_rejected_before_the_body_arrives()
    {
        var framing = new LengthPrefixFraming(FrameHeader.Binary4, maxFrameLength: 4096);
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF });
        var ex = Assert.Throws<Iso8583Exception>(() => framing.TryReadFrame(ref buffer, out _));
        Assert.Equal(0, ex.Offset);
        Assert.Contains("at most 4096", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writing_a_frame_over_max_length_is_rejected()
    {
        var framing = new LengthPrefixFraming(FrameHeader.Binary2, maxFrameLength: 4);
        Assert.Throws<Iso8583Exception>(() => framing.WriteFrame(new ArrayBufferWriter<byte>(), Payload));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LengthPrefixFraming(FrameHeader.Ascii4, maxFrameLength: 10_000));
    }

    [Theory]
    [InlineData(FrameHeader.Ascii4, new byte[] { 0x30, 0x30, 0x41, 0x31 }, 2)]
    [InlineData(FrameHeader.Bcd2, new byte[] { 0x00, 0x1A }, 1)]
    public void Non_decimal_header_digits_are_rejected_with_their_offset(FrameHeader header, byte[] bytes, int offset)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        var ex = Assert.Throws<Iso8583Exception>(() => new LengthPrefixFraming(header).TryReadFrame(ref buffer, out _));
        Assert.Equal(offset, ex.Offset);
    }

    [Fact]
    public void Self_counting_header_smaller_than_itself_is_rejected()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0x00, 0x01, 0x41 });
        var framing = new LengthPrefixFraming(FrameHeader.Binary2, headerCountsItself: true);
        Assert.Throws<Iso8583Exception>(() => framing.TryReadFrame(ref buffer, out _));
    }

    [Fact]
    public async Task Messages_flow_through_a_pipe_frame_by_frame()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-binary");
        var framing = new LengthPrefixFraming(FrameHeader.Binary2);
        var pipe = new Pipe();
        framing.WriteMessage(pipe.Writer, spec, Samples.Authorization(spec));
        framing.WriteKeepAlive(pipe.Writer);
        framing.WriteMessage(pipe.Writer, spec, Samples.Echo(spec));
        await pipe.Writer.CompleteAsync();

        var mtis = new List<string>();
        var keepAlives = 0;
        while (true)
        {
            var result = await pipe.Reader.ReadAsync();
            var buffer = result.Buffer;
            while (framing.TryReadFrame(ref buffer, out var frame))
            {
                if (frame.IsEmpty)
                {
                    keepAlives++;
                    continue;
                }

                mtis.Add(spec.Unpack(frame).Mti.ToString());
            }

            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal(["0200", "0800"], mtis);
        Assert.Equal(1, keepAlives);
    }
}

internal static class Segments
{
    public static ReadOnlySequence<byte> OneBytePerSegment(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
