using System.Numerics;
using System.Runtime.CompilerServices;

namespace OrleansControl.Codec;

/// <summary>
/// An ISO 8583 message: an MTI and the values of fields 2–192. Values are logical (ASCII digits/characters,
/// raw bytes for b fields) and stored as <see cref="ReadOnlyMemory{T}"/> slices, so an unpacked message shares
/// one buffer with all its fields. Bitmaps (fields 1 and 65 when the spec says so) are computed when packing.
/// <see cref="ToString"/> is the masked <see cref="Describe"/>: the only form a message may take in a log.
/// </summary>
public sealed class IsoMessage
{
    public const int MaxField = 192;

    // Values are kept in ascending field order; a field's slot is the number of present fields below it,
    // counted from the presence words (bit 63 - (n-1) % 64 of word (n-1) / 64, as on the wire).
    private Presence _presence;
    private FieldValue[] _values;
    private int _count;

    public IsoMessage(MessageSpec spec, Mti mti = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        Mti = mti;
        _values = new FieldValue[16];
    }

    private IsoMessage(MessageSpec spec, Mti mti, int capacity)
    {
        Spec = spec;
        Mti = mti;
        _values = capacity == 0 ? [] : new FieldValue[capacity];
    }

    /// <summary>The spec this message was unpacked with or created for; it decides how <see cref="Describe"/> masks.</summary>
    public MessageSpec Spec { get; }

    public Mti Mti { get; set; }

    /// <summary>Number of fields present (bitmaps excluded).</summary>
    public int Count => _count;

    /// <summary>Unpack saw a secondary bitmap with no field in it; packing keeps it so bytes round-trip.</summary>
    internal bool KeepSecondaryBitmap { get; set; }

    /// <summary>Unpack saw a tertiary bitmap with no field in it.</summary>
    internal bool KeepTertiaryBitmap { get; set; }

    /// <summary>Present field numbers, ascending.</summary>
    public IEnumerable<int> FieldNumbers
    {
        get
        {
            for (var w = 0; w < 3; w++)
            {
                var bits = _presence[w];
                while (bits != 0)
                {
                    var lz = BitOperations.LeadingZeroCount(bits);
                    bits &= ~(1UL << (63 - lz));
                    yield return 64 * w + lz + 1;
                }
            }
        }
    }

    public bool Has(int field) => field is >= 1 and <= MaxField && (_presence[(field - 1) >> 6] & Bit(field)) != 0;

    public bool TryGet(int field, out ReadOnlyMemory<byte> value)
    {
        if (Has(field))
        {
            value = _values[SlotOf(field)].Memory;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>The field's value, or empty when absent.</summary>
    public ReadOnlyMemory<byte> GetBytes(int field) => TryGet(field, out var v) ? v : default;

    /// <summary>The field's value as text (Latin-1), or null when absent.</summary>
    public string? GetString(int field) => TryGet(field, out var v) ? System.Text.Encoding.Latin1.GetString(v.Span) : null;

    /// <summary>The field's digits as a number; false when absent, not all digits, or too long.</summary>
    public bool TryGetInt64(int field, out long value)
    {
        value = 0;
        if (!TryGet(field, out var v) || v.Length is 0 or > 18)
        {
            return false;
        }

        foreach (var b in v.Span)
        {
            if ((uint)(b - '0') > 9)
            {
                return false;
            }

            value = value * 10 + (b - '0');
        }

        return true;
    }

    public long GetInt64(int field) =>
        TryGetInt64(field, out var v) ? v : throw new InvalidOperationException($"field {field} is absent or not a number");

    /// <summary>Sets a text or digit field (characters must be Latin-1; the spec checks the class when packing).</summary>
    public IsoMessage Set(int field, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var bytes = new byte[value.Length];
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] > 0xFF)
            {
                throw new ArgumentException($"field {field}: character at position {i} is not Latin-1", nameof(value));
            }

            bytes[i] = (byte)value[i];
        }

        return SetOwned(field, bytes);
    }

    /// <summary>Sets a numeric field from a non-negative number; fixed-length fields are zero-padded when packing.</summary>
    public IsoMessage Set(int field, long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        Span<byte> digits = stackalloc byte[20];
        var i = digits.Length;
        do
        {
            digits[--i] = (byte)('0' + value % 10);
            value /= 10;
        }
        while (value > 0);

        return Set(field, digits[i..]);
    }

    /// <summary>Sets a field to a copy of the given bytes.</summary>
    public IsoMessage Set(int field, ReadOnlySpan<byte> value) => SetOwned(field, value.ToArray());

    /// <summary>Sets a field to the given memory without copying; the caller must not change it afterwards.</summary>
    public IsoMessage SetOwned(int field, ReadOnlyMemory<byte> value)
    {
        CheckSettable(field);
        var stored = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(value, out var segment)
            ? new FieldValue(segment.Array!, segment.Offset, segment.Count)
            : new FieldValue(value.ToArray(), 0, value.Length);
        var slot = SlotOf(field);
        if (Has(field))
        {
            _values[slot] = stored;
            return this;
        }

        if (_count == _values.Length)
        {
            Array.Resize(ref _values, Math.Max(4, _count * 2));
        }

        Array.Copy(_values, slot, _values, slot + 1, _count - slot);
        _values[slot] = stored;
        _count++;
        _presence[(field - 1) >> 6] |= Bit(field);
        return this;
    }

    public bool Remove(int field)
    {
        if (!Has(field))
        {
            return false;
        }

        var slot = SlotOf(field);
        Array.Copy(_values, slot + 1, _values, slot, _count - slot - 1);
        _values[--_count] = default;
        _presence[(field - 1) >> 6] &= ~Bit(field);
        return true;
    }

    /// <summary>A copy with its own field table. Values are shared: they are immutable once set.</summary>
    public IsoMessage Clone()
    {
        var copy = new IsoMessage(Spec, Mti, Math.Max(_count, 4))
        {
            _presence = _presence,
            _count = _count,
            KeepSecondaryBitmap = KeepSecondaryBitmap,
            KeepTertiaryBitmap = KeepTertiaryBitmap,
        };
        Array.Copy(_values, copy._values, _count);
        return copy;
    }

    /// <summary>Masked, multi-line description: PANs as first 6 / last 4, secret fields hidden.</summary>
    public string Describe() => MessageDescriber.Describe(this);

    public override string ToString() => Describe();

    /// <summary>
    /// One field as it may appear in a log line: PAN as first 6 / last 4, secret fields as their length only, sensitive
    /// EMV tags hidden; null when absent. The same rules as <see cref="Describe"/>.
    /// </summary>
    public string? GetMasked(int field) => Has(field) ? MessageDescriber.DescribeValue(this, field) : null;

    internal static IsoMessage ForUnpack(MessageSpec spec, Mti mti, int capacity) => new(spec, mti, capacity);

    /// <summary>Presence bits of fields 1–64, 65–128 or 129–192 (most significant bit = lowest field).</summary>
    internal ulong PresenceWord(int word) => _presence[word];

    /// <summary>Value in slot <paramref name="slot"/>: the slot-th present field in ascending order.</summary>
    internal ReadOnlySpan<byte> ValueAt(int slot) => _values[slot].Span;

    /// <summary>Appends a field during unpack (fields arrive in ascending order, each once).</summary>
    internal void Add(int field, FieldValue value)
    {
        if (_count == _values.Length)
        {
            Array.Resize(ref _values, Math.Max(4, _count * 2));
        }

        _values[_count++] = value;
        _presence[(field - 1) >> 6] |= Bit(field);
    }

    internal static ulong Bit(int field) => 1UL << (63 - ((field - 1) & 63));

    internal static int PopCount(ulong word) => BitOperations.PopCount(word);

    // Present fields below `field`: whole words before its word, plus the higher-order bits of its own word.
    private int SlotOf(int field)
    {
        var word = (field - 1) >> 6;
        var shift = 64 - ((field - 1) & 63);
        var below = shift == 64 ? 0 : BitOperations.PopCount(_presence[word] >> shift);
        for (var w = 0; w < word; w++)
        {
            below += BitOperations.PopCount(_presence[w]);
        }

        return below;
    }

    private void CheckSettable(int field)
    {
        if (field is < 2 or > MaxField)
        {
            throw new ArgumentOutOfRangeException(nameof(field), field, "fields are 2-192; field 1 is the secondary bitmap");
        }

        if (field == 65 && Spec[65]?.Content == ContentClass.Bitmap)
        {
            throw new ArgumentOutOfRangeException(nameof(field), field, "field 65 is the tertiary bitmap in this spec");
        }
    }

    /// <summary>A slice of a byte array: like ReadOnlyMemory, but getting its span needs no type checks.</summary>
    internal readonly record struct FieldValue(byte[] Array, int Start, int Length)
    {
        public ReadOnlySpan<byte> Span => new(Array, Start, Length);

        public ReadOnlyMemory<byte> Memory => new(Array, Start, Length);
    }

    [InlineArray(3)]
    private struct Presence
    {
        private ulong _element;
    }
}
