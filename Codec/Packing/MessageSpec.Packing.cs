using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace OrleansControl.Codec;

// Whole-message pack/unpack: MTI, bitmaps, then each present field in ascending order.
// Field 1 (secondary bitmap) and field 65 (tertiary bitmap, when defined so) sit at their natural positions.
public sealed partial class MessageSpec
{
    private int GetPackedLength(IsoMessage message, out BitmapWords words)
    {
        ArgumentNullException.ThrowIfNull(message);
        words = ComputeBitmaps(message);
        var total = MtiLength + BitmapLength;
        var slot = 0;
        for (var w = 0; w < 3; w++)
        {
            var bits = words[w];
            while (bits != 0)
            {
                var lz = BitOperations.LeadingZeroCount(bits);
                bits &= ~(1UL << (63 - lz));
                var n = 64 * w + lz + 1;
                if (n == 1 || (n == 65 && HasTertiaryBitmap))
                {
                    if (n == 65 && message.Has(65))
                    {
                        throw new Iso8583Exception($"no value (field 65 is the tertiary bitmap in spec {Name})", "a value", 65);
                    }

                    total += BitmapLength;
                    continue;
                }

                var def = _fields[n] ?? throw new Iso8583Exception($"a definition in spec {Name}", "a value", n);
                total += FieldCodec.PackedLength(def, message.ValueAt(slot++).Length);
            }
        }

        return total;
    }

    private BitmapWords ComputeBitmaps(IsoMessage message)
    {
        var p2 = message.PresenceWord(2);
        var tertiary = p2 != 0 || message.KeepTertiaryBitmap;
        if (tertiary && !HasTertiaryBitmap)
        {
            var first = 129 + BitOperations.LeadingZeroCount(p2);
            throw new Iso8583Exception($"fields up to 128 (spec {Name} has no tertiary bitmap)", "a value", first);
        }

        var p1 = message.PresenceWord(1) | (tertiary ? IsoMessage.Bit(65) : 0);
        var secondary = p1 != 0 || message.KeepSecondaryBitmap;
        var p0 = message.PresenceWord(0) | (secondary ? IsoMessage.Bit(1) : 0);
        var words = default(BitmapWords);
        words[0] = p0;
        words[1] = p1;
        words[2] = p2;
        return words;
    }

    private void PackCore(IsoMessage message, Span<byte> dest, BitmapWords words)
    {
        var pos = WriteMti(message.Mti, dest);
        pos += WriteBitmap(words[0], dest[pos..]);
        var slot = 0;
        for (var w = 0; w < 3; w++)
        {
            var bits = words[w];
            while (bits != 0)
            {
                var lz = BitOperations.LeadingZeroCount(bits);
                bits &= ~(1UL << (63 - lz));
                var n = 64 * w + lz + 1;
                if (n == 1)
                {
                    pos += WriteBitmap(words[1], dest[pos..]);
                }
                else if (n == 65 && HasTertiaryBitmap)
                {
                    pos += WriteBitmap(words[2], dest[pos..]);
                }
                else
                {
                    var def = _fields[n]!;
                    pos += FieldCodec.Write(def, message.ValueAt(slot++), dest[pos..], pos, Site.Of(def));
                }
            }
        }
    }

    /// <summary>
    /// Room needed for BCD digits: the sum of max lengths of the BCD fields the primary and secondary bitmaps
    /// announce (all tertiary ones if field 65 is there), never more than twice the input. Reads only the head;
    /// a malformed head throws the same error unpacking would.
    /// </summary>
    private int DecodeBound(ReadOnlySpan<byte> head, int length = -1)
    {
        length = length < 0 ? head.Length : length;
        var pos = 0;
        ReadMti(head, ref pos);
        var w0 = ReadBitmap(head, ref pos, null);
        var w1 = (w0 & IsoMessage.Bit(1)) != 0 && _fields[1] is not null ? ReadBitmap(head, ref pos, 1) : 0;
        long bound = (w1 & IsoMessage.Bit(65)) != 0 && HasTertiaryBitmap ? _tertiaryBcdMax : 0;
        var table = _bcdMaxByBitmapByte;
        for (var i = 0; i < 8; i++)
        {
            bound += table[i * 256 + (byte)(w0 >> (56 - 8 * i))] + table[(8 + i) * 256 + (byte)(w1 >> (56 - 8 * i))];
        }

        return (int)Math.Min(bound, 2L * length);
    }

    private IsoMessage UnpackCore(byte[] buffer, int length)
    {
        var src = buffer.AsSpan(0, length);
        var decode = buffer.AsSpan(length);
        var pos = 0;
        var decodePos = 0;
        var mti = ReadMti(src, ref pos);
        var words = default(BitmapWords);
        words[0] = ReadBitmap(src, ref pos, null);
        var capacity = IsoMessage.PopCount(words[0]);
        IsoMessage? message = null;
        for (var w = 0; w < 3; w++)
        {
            var bits = words[w];
            while (bits != 0)
            {
                var lz = BitOperations.LeadingZeroCount(bits);
                bits &= ~(1UL << (63 - lz));
                var n = 64 * w + lz + 1;
                var def = _fields[n] ?? throw UndefinedBit(n, pos);
                if (def.Content == ContentClass.Bitmap)
                {
                    var next = ReadBitmap(src, ref pos, n);
                    words[n == 1 ? 1 : 2] = next;
                    capacity += IsoMessage.PopCount(next) - 1;
                    continue;
                }

                message ??= IsoMessage.ForUnpack(this, mti, capacity);
                var slice = FieldCodec.Read(def, src, ref pos, decode, ref decodePos, Site.Of(def), 0);
                message.Add(n, new IsoMessage.FieldValue(buffer, slice.Start, slice.Length));
            }
        }

        if (pos != length)
        {
            throw TrailingBytes(length - pos, pos);
        }

        message ??= IsoMessage.ForUnpack(this, mti, 0);
        message.KeepSecondaryBitmap = (words[0] & IsoMessage.Bit(1)) != 0 && words[1] == 0;
        message.KeepTertiaryBitmap = HasTertiaryBitmap && (words[1] & IsoMessage.Bit(65)) != 0 && words[2] == 0;
        return message;
    }

    // Errors are built outside the read/write paths so that their frames carry no string formatting.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Iso8583Exception UndefinedBit(int n, int pos) =>
        new($"a field definition for bit {n} in spec {Name}", "the bit set", n, pos);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Iso8583Exception MtiTruncated(int length) => new($"a {MtiLength}-byte MTI", $"{length} bytes", null, 0, "MTI");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Iso8583Exception BadMtiDigit(byte b, int at) => new($"{MtiEncoding} MTI digits", $"0x{b:X2}", null, at, "MTI");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Iso8583Exception BitmapTruncated(int? field, int left, int pos) =>
        new($"{BitmapLength} bytes of {BitmapContext(field)}", $"{Math.Max(0, left)} bytes left", field, pos, BitmapContext(field));

    private static string BitmapContext(int? field) =>
        field switch { null => "primary bitmap", 1 => "secondary bitmap", _ => "tertiary bitmap" };

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Iso8583Exception TrailingBytes(int count, int pos) => new("end of message", $"{count} trailing bytes", null, pos);

    private int WriteMti(Mti mti, Span<byte> dest)
    {
        var v = mti.Value;
        switch (MtiEncoding)
        {
            case FieldEncoding.Bcd:
                dest[0] = (byte)(v / 1000 << 4 | v / 100 % 10);
                dest[1] = (byte)(v / 10 % 10 << 4 | v % 10);
                return 2;
            case FieldEncoding.Ebcdic:
                mti.WriteDigits(dest[..4]);
                for (var i = 0; i < 4; i++)
                {
                    dest[i] = Ebcdic.Encode(dest[i]);
                }

                return 4;
            default:
                mti.WriteDigits(dest);
                return 4;
        }
    }

    private Mti ReadMti(ReadOnlySpan<byte> src, ref int pos)
    {
        if (src.Length < MtiLength)
        {
            throw MtiTruncated(src.Length);
        }

        var value = 0;
        for (var i = 0; i < 4; i++)
        {
            var d = MtiEncoding switch
            {
                FieldEncoding.Bcd => i % 2 == 0 ? src[i / 2] >> 4 : src[i / 2] & 0xF,
                FieldEncoding.Ebcdic => src[i] - 0xF0,
                _ => src[i] - '0',
            };
            if ((uint)d > 9)
            {
                var at = MtiEncoding == FieldEncoding.Bcd ? i / 2 : i;
                throw BadMtiDigit(src[at], at);
            }

            value = value * 10 + d;
        }

        pos = MtiLength;
        return new Mti(value);
    }

    private int WriteBitmap(ulong word, Span<byte> dest)
    {
        if (BitmapEncoding == BitmapEncoding.Binary)
        {
            BinaryPrimitives.WriteUInt64BigEndian(dest, word);
            return 8;
        }

        word.TryFormat(dest[..16], out _, "X16", CultureInfo.InvariantCulture);
        return 16;
    }

    private ulong ReadBitmap(ReadOnlySpan<byte> src, ref int pos, int? field)
    {
        var len = BitmapLength;
        if (src.Length - pos < len)
        {
            throw BitmapTruncated(field, src.Length - pos, pos);
        }

        ulong word;
        if (BitmapEncoding == BitmapEncoding.Binary)
        {
            word = BinaryPrimitives.ReadUInt64BigEndian(src[pos..]);
        }
        else
        {
            word = ReadHexBitmap(src.Slice(pos, 16), field, pos);
        }

        pos += len;
        return word;
    }

    // Apart from ReadBitmap so that the binary path carries no stackalloc.
    private static ulong ReadHexBitmap(ReadOnlySpan<byte> hex, int? field, int pos)
    {
        Span<byte> raw = stackalloc byte[8];
        var bad = Hex.Decode(hex, raw);
        if (bad >= 0)
        {
            throw new Iso8583Exception("upper-case hex digits", $"0x{hex[bad]:X2}", field, pos + bad, BitmapContext(field));
        }

        return BinaryPrimitives.ReadUInt64BigEndian(raw);
    }

    [System.Runtime.CompilerServices.InlineArray(3)]
    private struct BitmapWords
    {
        private ulong _element;
    }
}
