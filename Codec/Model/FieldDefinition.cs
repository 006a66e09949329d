using System.Buffers;

namespace OrleansControl.Codec;

/// <summary>
/// One row of a spec's field table: everything needed to pack, unpack and describe a field.
/// Built by <see cref="MessageSpec.Load"/> from JSON; immutable.
/// </summary>
public sealed class FieldDefinition
{
    internal FieldDefinition(
        int number,
        string name,
        ContentClass content,
        LengthKind length,
        int maxLength,
        FieldEncoding prefixEncoding,
        FieldEncoding encoding,
        PadSide pad,
        byte padChar,
        Sensitivity sensitivity,
        FieldFormat format,
        IReadOnlyList<FieldDefinition> subfields,
        IReadOnlySet<uint> sensitiveTags,
        IReadOnlySet<uint> panTags)
    {
        Number = number;
        Name = name;
        Content = content;
        Length = length;
        MaxLength = maxLength;
        PrefixEncoding = prefixEncoding;
        Encoding = encoding;
        Pad = pad;
        PadChar = padChar;
        Sensitivity = sensitivity;
        Format = format;
        Subfields = subfields;
        SensitiveTags = sensitiveTags;
        PanTags = panTags;
        PrefixDigits = (int)length;
        PrefixByteLength = LengthPrefix.ByteLength(prefixEncoding, PrefixDigits);
        Allowed = CharacterClasses.For(content);
        IsFixedPlain = length == LengthKind.Fixed && encoding is FieldEncoding.Ascii or FieldEncoding.Binary
            && format == FieldFormat.Plain && content != ContentClass.SignedAmount;
        IsFixedBcd = length == LengthKind.Fixed && encoding == FieldEncoding.Bcd && format == FieldFormat.Plain
            && content is ContentClass.Numeric or ContentClass.Track2;
        SubfieldsReadInPlace = subfields.All(f => f.Encoding is FieldEncoding.Ascii or FieldEncoding.Binary);
        PadNibble = (byte)(padChar is >= (byte)'0' and <= (byte)'9' ? padChar - '0'
            : padChar is >= (byte)'A' and <= (byte)'F' ? padChar - 'A' + 10 : 0);
    }

    /// <summary>Field number (1–192), or the subfield position (1-based) for a subfield.</summary>
    public int Number { get; }

    public string Name { get; }

    public ContentClass Content { get; }

    public LengthKind Length { get; }

    /// <summary>Maximum logical length (digits, characters or bytes); for fixed fields, the exact length.</summary>
    public int MaxLength { get; }

    public FieldEncoding PrefixEncoding { get; }

    public FieldEncoding Encoding { get; }

    public PadSide Pad { get; }

    /// <summary>Padding character for short fixed-length values; for odd-length BCD, its hex value is the pad nibble.</summary>
    public byte PadChar { get; }

    public Sensitivity Sensitivity { get; }

    public FieldFormat Format { get; }

    public IReadOnlyList<FieldDefinition> Subfields { get; }

    /// <summary>For TLV fields: tags whose values are never shown (track 2 equivalent, cardholder name, ...).</summary>
    public IReadOnlySet<uint> SensitiveTags { get; }

    /// <summary>For TLV fields: tags that hold a PAN (shown first 6 / last 4).</summary>
    public IReadOnlySet<uint> PanTags { get; }

    public bool IsFixed => Length == LengthKind.Fixed;

    internal int PrefixDigits { get; }

    internal int PrefixByteLength { get; }

    internal SearchValues<byte> Allowed { get; }

    internal byte PadNibble { get; }

    /// <summary>All subfields are ASCII or raw: validating them needs neither a copy nor a decode area.</summary>
    internal bool SubfieldsReadInPlace { get; }

    /// <summary>Fixed length, ASCII or raw on the wire, no inner structure: the unpack fast path.</summary>
    internal bool IsFixedPlain { get; }

    /// <summary>Fixed-length digits (n or z) as packed BCD, no inner structure: the other unpack fast path.</summary>
    internal bool IsFixedBcd { get; }

    /// <summary>A short fixed-length value may be padded up to <see cref="MaxLength"/>.</summary>
    internal bool CanPad => Content is not (ContentClass.Binary or ContentClass.SignedAmount or ContentClass.Bitmap);

    /// <summary>Splits a value of this (composite) field into its positional subfields; trailing subfields may be absent.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> ReadSubfields(ReadOnlyMemory<byte> value) => SubfieldCodec.Read(this, value);

    /// <summary>Builds the value of this composite field from subfield values (fixed ones are padded).</summary>
    public byte[] ComposeSubfields(params string[] values) => SubfieldCodec.Compose(this, values);

    public override string ToString() => $"{Number} {Name} ({Content}, {Length} {MaxLength})";
}
