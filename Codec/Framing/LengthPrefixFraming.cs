using System.Buffers;
using System.Buffers.Binary;

namespace OrleansControl.Codec;

/// <summary>
/// Cuts messages out of a byte stream and writes them back with a length header — the "channel" half of
/// jPOS's packager/channel split, on <see cref="ReadOnlySequence{T}"/> and <see cref="IBufferWriter{T}"/>
/// so it plugs straight into System.IO.Pipelines. Knows nothing of sockets.
/// A zero-length frame is a keep-alive (when allowed); a header announcing more than
/// <see cref="MaxFrameLength"/> is rejected before anything is buffered for it.
/// </summary>
public sealed class LengthPrefixFraming
{
    public LengthPrefixFraming(FrameHeader header, int maxFrameLength = 8192, bool headerCountsItself = false, bool allowKeepAlive = true)
    {
        Header = header;
        HeaderLength = header switch
        {
            FrameHeader.Binary2 or FrameHeader.Bcd2 => 2,
            FrameHeader.Ascii4 or FrameHeader.Binary4 => 4,
            _ => throw new ArgumentOutOfRangeException(nameof(header)),
        };
        var limit = Capacity(header, headerCountsItself);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameLength, 1);
        if (maxFrameLength > limit)
        {
            throw new ArgumentOutOfRangeException(nameof(maxFrameLength), maxFrameLength, $"a {header} header can express at most {limit} payload bytes");
        }

        MaxFrameLength = maxFrameLength;
        HeaderCountsItself = headerCountsItself;
        AllowKeepAlive = allowKeepAlive;
    }

    public FrameHeader Header { get; }

    /// <summary>Largest payload a header kind can announce.</summary>
    public static int Capacity(FrameHeader header, bool headerCountsItself) => header switch
    {
        FrameHeader.Binary2 => 65_535,
        FrameHeader.Ascii4 or FrameHeader.Bcd2 => 9_999,
        FrameHeader.Binary4 => int.MaxValue,
        _ => throw new ArgumentOutOfRangeException(nameof(header)),
    } - (headerCountsItself ? (header is FrameHeader.Binary2 or FrameHeader.Bcd2 ? 2 : 4) : 0);

    public int HeaderLength { get; }

    /// <summary>Largest payload (message) accepted or written, excluding the header.</summary>
    public int MaxFrameLength { get; }

    /// <summary>The header's value includes the header's own bytes (some hosts count them).</summary>
    public bool HeaderCountsItself { get; }

    /// <summary>Zero-length frames are keep-alives; when false they are an error.</summary>
    public bool AllowKeepAlive { get; }

    /// <summary>
    /// Parses "binary2", "ascii4", "bcd2" or "binary4", optionally suffixed "-inclusive" for a header that counts itself.
    /// </summary>
    public static LengthPrefixFraming Parse(string name, int maxFrameLength = 8192, bool allowKeepAlive = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        var inclusive = name.EndsWith("-inclusive", StringComparison.OrdinalIgnoreCase);
        var kind = (inclusive ? name[..^"-inclusive".Length] : name).ToLowerInvariant() switch
        {
            "binary2" => FrameHeader.Binary2,
            "ascii4" => FrameHeader.Ascii4,
            "bcd2" => FrameHeader.Bcd2,
            "binary4" => FrameHeader.Binary4,
            _ => throw new ArgumentException($"unknown framing '{name}': binary2, ascii4, bcd2 or binary4, optionally with -inclusive", nameof(name)),
        };
        return new LengthPrefixFraming(kind, maxFrameLength, inclusive, allowKeepAlive);
    }

    /// <summary>
    /// If <paramref name="buffer"/> starts with a whole frame, slices its payload into <paramref name="frame"/>
    /// (empty for a keep-alive) and advances <paramref name="buffer"/> past it. False when more bytes are needed.
    /// </summary>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[4];
        header = header[..HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        var length = ReadLength(header);
        var total = HeaderLength + length;
        if (buffer.Length < total)
        {
            return false;
        }

        frame = buffer.Slice(HeaderLength, length);
        buffer = buffer.Slice(total);
        return true;
    }

    /// <summary>Writes header and payload.</summary>
    public void WriteFrame(IBufferWriter<byte> writer, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CheckOutbound(payload.Length);
        var span = writer.GetSpan(HeaderLength + payload.Length);
        WriteHeader(span, payload.Length);
        payload.CopyTo(span[HeaderLength..]);
        writer.Advance(HeaderLength + payload.Length);
    }

    /// <summary>Packs a message straight behind its header, with no intermediate buffer.</summary>
    public void WriteMessage(IBufferWriter<byte> writer, MessageSpec spec, IsoMessage message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(spec);
        var length = spec.GetPackedLength(message);
        CheckOutbound(length);
        var span = writer.GetSpan(HeaderLength + length);
        var written = spec.Pack(message, span.Slice(HeaderLength, length));
        WriteHeader(span, written);
        writer.Advance(HeaderLength + written);
    }

    /// <summary>Writes a zero-length frame.</summary>
    public void WriteKeepAlive(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (!AllowKeepAlive)
        {
            throw new InvalidOperationException("this framing does not use zero-length keep-alive frames");
        }

        WriteHeader(writer.GetSpan(HeaderLength), 0);
        writer.Advance(HeaderLength);
    }

    /// <summary>Writes the header for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public void WriteHeader(Span<byte> dest, int payloadLength)
    {
        var value = payloadLength + (HeaderCountsItself ? HeaderLength : 0);
        switch (Header)
        {
            case FrameHeader.Binary2:
                BinaryPrimitives.WriteUInt16BigEndian(dest, (ushort)value);
                break;
            case FrameHeader.Binary4:
                BinaryPrimitives.WriteUInt32BigEndian(dest, (uint)value);
                break;
            case FrameHeader.Ascii4:
                for (var i = 3; i >= 0; i--, value /= 10)
                {
                    dest[i] = (byte)('0' + value % 10);
                }

                break;
            case FrameHeader.Bcd2:
                dest[0] = (byte)((value / 1000 << 4) | (value / 100 % 10));
                dest[1] = (byte)((value / 10 % 10 << 4) | (value % 10));
                break;
        }
    }

    private int ReadLength(ReadOnlySpan<byte> header)
    {
        long value;
        switch (Header)
        {
            case FrameHeader.Binary2:
                value = BinaryPrimitives.ReadUInt16BigEndian(header);
                break;
            case FrameHeader.Binary4:
                value = BinaryPrimitives.ReadUInt32BigEndian(header);
                break;
            case FrameHeader.Ascii4:
                value = 0;
                for (var i = 0; i < 4; i++)
                {
                    var d = header[i] - '0';
                    if ((uint)d > 9)
                    {
                        throw HeaderError(i, "ASCII decimal digits", $"0x{header[i]:X2}");
                    }

                    value = value * 10 + d;
                }

                break;
            default:
                value = 0;
                for (var i = 0; i < 4; i++)
                {
                    var d = i % 2 == 0 ? header[i / 2] >> 4 : header[i / 2] & 0xF;
                    if (d > 9)
                    {
                        throw HeaderError(i / 2, "BCD digits", $"0x{header[i / 2]:X2}");
                    }

                    value = value * 10 + d;
                }

                break;
        }

        if (HeaderCountsItself)
        {
            if (value < HeaderLength)
            {
                throw HeaderError(0, $"a length of at least {HeaderLength} (the header counts itself)", $"{value}");
            }

            value -= HeaderLength;
        }

        if (value == 0 && !AllowKeepAlive)
        {
            throw HeaderError(0, "a non-empty frame", "length 0");
        }

        if (value > MaxFrameLength)
        {
            throw HeaderError(0, $"a frame of at most {MaxFrameLength} bytes", $"{value} bytes");
        }

        return (int)value;
    }

    private void CheckOutbound(int length)
    {
        if (length > MaxFrameLength)
        {
            throw new Iso8583Exception($"a frame of at most {MaxFrameLength} bytes", $"{length} bytes", null, null, "outbound frame");
        }
    }

    private static Iso8583Exception HeaderError(int offset, string expected, string found) =>
        new(expected, found, null, offset, "frame header");
}
