using System.Buffers;
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

    private IsoWire(MessageSpec spec, LengthPrefixFraming framing)
    {
        Spec = spec;
        Framing = framing;
    }

    public MessageSpec Spec { get; }

    public LengthPrefixFraming Framing { get; }

    public static IsoWire Create(LinkOptions options)
    {
        var spec = File.Exists(options.Spec) ? MessageSpec.LoadFile(options.Spec) : MessageSpec.BuiltIn(options.Spec);
        return new IsoWire(spec, LengthPrefixFraming.Parse(options.Framing, options.MaxFrameLength));
    }

    public IsoMessage Create(int mti) => Spec.CreateMessage(new Mti(mti));

    public static int MtiOf(IsoMessage message) => message.Mti.Value;

    public static string? Get(IsoMessage message, int field) => message.GetString(field);

    public static void Set(IsoMessage message, int field, string value) => message.Set(field, value);

    public IsoMessage Unpack(in ReadOnlySequence<byte> frame) => Spec.Unpack(frame);

    /// <summary>Cuts one frame (without its header; empty for a keep-alive) off the front of <paramref name="buffer"/>.</summary>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame) =>
        Framing.TryReadFrame(ref buffer, out frame);

    /// <summary>Writes the frame header and the packed message, with no intermediate buffer.</summary>
    public void WriteFrame(PipeWriter writer, IsoMessage message) => Framing.WriteMessage(writer, Spec, message);
}
