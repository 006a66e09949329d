using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Connections;

/// <summary>
/// The sidecar's one seam to the codec: which spec packs and unpacks, and which frame header delimits
/// messages on the stream. Everything else in the sidecar goes through here.
/// </summary>
public sealed class IsoWire
{
    public const string DefaultSpec = "iso8583-1987-ascii";
    public const string DefaultFraming = "binary2";

    private readonly int _maxFrame;

    private IsoWire(MessageSpec spec, int maxFrame)
    {
        Spec = spec;
        _maxFrame = maxFrame;
    }

    public MessageSpec Spec { get; }

    public static IsoWire Create(LinkOptions options)
    {
        var spec = File.Exists(options.Spec) ? MessageSpec.LoadFile(options.Spec) : MessageSpec.BuiltIn(options.Spec);
        return new IsoWire(spec, options.MaxFrameLength);
    }

    public IsoMessage Create(int mti) => Spec.CreateMessage(new Mti(mti));

    public static int MtiOf(IsoMessage message) => message.Mti.Value;

    public static string? Get(IsoMessage message, int field) => message.GetString(field);

    public static void Set(IsoMessage message, int field, string value) => message.Set(field, value);

    public IsoMessage Unpack(in ReadOnlySequence<byte> frame) => Spec.Unpack(frame);

    /// <summary>Cuts one frame (without its header) off the front of <paramref name="buffer"/>.</summary>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < 2)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[2];
        buffer.Slice(0, 2).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt16BigEndian(header);
        if (length > _maxFrame)
        {
            throw new Iso8583Exception($"a frame of at most {_maxFrame} bytes", $"{length} bytes", offset: 0, context: "frame header");
        }

        if (buffer.Length < 2 + length)
        {
            return false;
        }

        frame = buffer.Slice(2, length);
        buffer = buffer.Slice(2 + length);
        return true;
    }

    /// <summary>Writes the frame header and the packed message.</summary>
    public void WriteFrame(PipeWriter writer, IsoMessage message)
    {
        var length = Spec.GetPackedLength(message);
        if (length > _maxFrame)
        {
            throw new Iso8583Exception($"a frame of at most {_maxFrame} bytes", $"{length} bytes", context: "outbound frame");
        }

        var span = writer.GetSpan(2 + length);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)length);
        Spec.Pack(message, span.Slice(2, length));
        writer.Advance(2 + length);
    }
}
