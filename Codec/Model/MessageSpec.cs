using System.Buffers;
using System.Collections.Concurrent;

namespace OrleansControl.Codec;

/// <summary>
/// A dialect of ISO 8583 as data: MTI and bitmap encodings plus a table of field definitions, loaded from JSON.
/// Packs <see cref="IsoMessage"/>s to bytes and unpacks bytes to messages. Immutable and thread-safe.
/// </summary>
public sealed partial class MessageSpec
{
    private static readonly ConcurrentDictionary<string, MessageSpec> BuiltIns = new(StringComparer.OrdinalIgnoreCase);
    private readonly FieldDefinition?[] _fields;
    private readonly long _tertiaryBcdMax;

    // Sum of the BCD fields' max lengths for each value of each byte of the primary and secondary bitmaps,
    // at [byteIndex * 256 + value]: the decode area is sized with 16 lookups instead of a walk over the bits.
    private readonly int[] _bcdMaxByBitmapByte = new int[16 * 256];
    private readonly bool _hasBcd;

    internal MessageSpec(string name, string description, FieldEncoding mtiEncoding, BitmapEncoding bitmapEncoding, FieldDefinition?[] fields)
    {
        Name = name;
        Description = description;
        MtiEncoding = mtiEncoding;
        BitmapEncoding = bitmapEncoding;
        _fields = fields;
        Fields = [.. fields.Where(f => f is not null).Select(f => f!)];
        HasTertiaryBitmap = fields[65]?.Content == ContentClass.Bitmap;
        // BCD digits are decoded into an area after the input copy (hex and EBCDIC decode in place). Its size is
        // bounded by the max lengths of the BCD fields the bitmaps announce, precomputed here per field.
        foreach (var f in Fields.Where(f => f.Encoding == FieldEncoding.Bcd))
        {
            _hasBcd = true;
            if (f.Number > 128)
            {
                _tertiaryBcdMax += f.MaxLength;
            }
            else
            {
                // Field n is bit (n - 1): byte (n - 1) / 8, most significant bit first.
                var byteIndex = (f.Number - 1) / 8;
                var mask = 0x80 >> ((f.Number - 1) % 8);
                for (var v = 0; v < 256; v++)
                {
                    if ((v & mask) != 0)
                    {
                        _bcdMaxByBitmapByte[byteIndex * 256 + v] += f.MaxLength;
                    }
                }
            }
        }
    }

    public string Name { get; }

    public string Description { get; }

    public FieldEncoding MtiEncoding { get; }

    public BitmapEncoding BitmapEncoding { get; }

    /// <summary>Defined fields, ascending by number.</summary>
    public IReadOnlyList<FieldDefinition> Fields { get; }

    /// <summary>Field 65 is a tertiary bitmap (fields 129–192 possible).</summary>
    public bool HasTertiaryBitmap { get; }

    /// <summary>Names accepted by <see cref="BuiltIn"/>.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = [.. typeof(MessageSpec).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("Specs.", StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
        .Select(n => n["Specs.".Length..^".json".Length])
        .Order(StringComparer.Ordinal)];

    private int MtiLength => MtiEncoding == FieldEncoding.Bcd ? 2 : 4;

    private int BitmapLength => BitmapEncoding == BitmapEncoding.Binary ? 8 : 16;

    /// <summary>The definition of a field, or null when the spec does not define it.</summary>
    public FieldDefinition? this[int field] => (uint)field < (uint)_fields.Length ? _fields[field] : null;

    /// <summary>Loads a spec from its JSON text; throws <see cref="Iso8583Exception"/> naming the bad field.</summary>
    public static MessageSpec Load(string json) => SpecLoader.Load(json);

    public static MessageSpec LoadFile(string path) => SpecLoader.Load(File.ReadAllText(path));

    /// <summary>One of the specs shipped in the assembly: iso8583-1987-ascii, iso8583-1987-binary, iso8583-1993-ascii.</summary>
    public static MessageSpec BuiltIn(string name) => BuiltIns.GetOrAdd(name, static n =>
    {
        using var stream = typeof(MessageSpec).Assembly.GetManifestResourceStream($"Specs.{n}.json")
            ?? throw new ArgumentException($"no built-in spec '{n}'; built-in: {string.Join(", ", BuiltInNames)}", nameof(name));
        using var reader = new StreamReader(stream);
        return SpecLoader.Load(reader.ReadToEnd());
    });

    public IsoMessage CreateMessage(Mti mti) => new(this, mti);

    public override string ToString() => Name;

    /// <summary>Packs into a new array.</summary>
    public byte[] Pack(IsoMessage message)
    {
        var total = GetPackedLength(message, out var words);
        var bytes = new byte[total];
        PackCore(message, bytes, words);
        return bytes;
    }

    /// <summary>Packs into the writer with one GetSpan/Advance.</summary>
    public void Pack(IsoMessage message, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var total = GetPackedLength(message, out var words);
        PackCore(message, writer.GetSpan(total)[..total], words);
        writer.Advance(total);
    }

    /// <summary>Packs into <paramref name="destination"/> and returns the bytes written.</summary>
    public int Pack(IsoMessage message, Span<byte> destination)
    {
        var total = GetPackedLength(message, out var words);
        if (destination.Length < total)
        {
            throw new ArgumentException($"destination holds {destination.Length} bytes; the message needs {total}", nameof(destination));
        }

        PackCore(message, destination[..total], words);
        return total;
    }

    /// <summary>Bytes <see cref="Pack(IsoMessage)"/> will produce (lengths only; values are checked when packing).</summary>
    public int GetPackedLength(IsoMessage message) => GetPackedLength(message, out _);

    /// <summary>Unpacks exactly one message; the bytes are copied, so the input may be reused afterwards.</summary>
    public IsoMessage Unpack(ReadOnlySpan<byte> data)
    {
        CheckSize(data.Length);
        var buffer = new byte[data.Length + (_hasBcd ? DecodeBound(data) : 0)];
        data.CopyTo(buffer);
        return UnpackCore(buffer, data.Length);
    }

    /// <summary>Unpacks exactly one message from a (possibly multi-segment) sequence, e.g. a frame from a PipeReader.</summary>
    public IsoMessage Unpack(in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
        {
            return Unpack(data.FirstSpan);
        }

        CheckSize(data.Length);
        var length = (int)data.Length;
        Span<byte> head = stackalloc byte[36]; // MTI and two bitmaps at most
        head = head[..Math.Min(36, length)];
        data.Slice(0, head.Length).CopyTo(head);
        var buffer = new byte[length + (_hasBcd ? DecodeBound(head, length) : 0)];
        data.CopyTo(buffer);
        return UnpackCore(buffer, length);
    }

    private static void CheckSize(long length)
    {
        if (length > int.MaxValue / 4)
        {
            throw new Iso8583Exception("a message under 512 MiB", $"{length} bytes");
        }
    }
}

/// <summary>How bitmaps are written: 8 raw bytes, or 16 upper-case hex ASCII characters.</summary>
public enum BitmapEncoding
{
    Binary,
    Hex,
}
