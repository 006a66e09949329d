using System.Text;
using OrleansControl.Codec;

namespace OrleansControl.Codec.Tests;

/// <summary>Each kind of malformed input raises Iso8583Exception naming field, offset, expected and found.</summary>
public sealed class MalformedInputTests
{
    private static readonly MessageSpec Ascii87 = MessageSpec.BuiltIn("iso8583-1987-ascii");
    private static readonly MessageSpec Binary87 = MessageSpec.BuiltIn("iso8583-1987-binary");

    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Unpack_rejects_every_truncation_of_a_valid_message(string specName)
    {
        var spec = MessageSpec.BuiltIn(specName);
        var bytes = spec.Pack(Samples.Authorization(spec));
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var ex = Assert.Throws<Iso8583Exception>(() => spec.Unpack(bytes.AsSpan(0, cut)));
            Assert.NotNull(ex.Offset);
            Assert.InRange(ex.Offset!.Value, 0, cut);
        }
    }

    [Fact]
    public void Unpack_rejects_LLVAR_longer_than_spec_max()
    {
        // Field 2 is n..19; the prefix says 20.
        var data = Ascii("0200" + "4000000000000000" + "20" + "12345678901234567890");
        var ex = Assert.Throws<Iso8583Exception>(() => Ascii87.Unpack(data));
        Assert.Equal(2, ex.Field);
        Assert.Equal(20, ex.Offset);
        Assert.Equal("a length of at most 19", ex.Expected);
        Assert.Equal("20", ex.Found);
    }

    [Fact]
    public void Unpack_rejects_a_huge_length_prefix_without_allocating_for_it()
    {
        var spec = Samples.OneField("""{ "class": "b", "length": "LLLLLL", "max": 999999 }""");
        var data = Ascii("0200").Concat(new byte[] { 0x40, 0, 0, 0, 0, 0, 0, 0 }).Concat(Ascii("999999")).ToArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<Iso8583Exception>(() => spec.Unpack(data));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2, ex.Field);
        Assert.Equal("999999 bytes of value", ex.Expected);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Unpack_rejects_bad_BCD_nibble()
    {
        var bytes = Binary87.Pack(Binary87.CreateMessage(200).Set(3, "000000"));
        bytes[^2] = 0x0A; // processing code 00 0A 00
        var ex = Assert.Throws<Iso8583Exception>(() => Binary87.Unpack(bytes));
        Assert.Equal(3, ex.Field);
        Assert.Equal(bytes.Length - 2, ex.Offset);
        Assert.Equal("BCD digits 0-9", ex.Expected);
        Assert.Equal("nibble A", ex.Found);
    }

    [Fact]
    public void Unpack_rejects_bad_BCD_nibble_in_a_length_prefix_and_in_the_mti()
    {
        var bytes = Binary87.Pack(Binary87.CreateMessage(200).Set(2, "4761739001010119"));
        bytes[10] = 0x1A; // LL prefix
        var ex = Assert.Throws<Iso8583Exception>(() => Binary87.Unpack(bytes));
        Assert.Equal((2, 10), (ex.Field, ex.Offset));

        bytes[0] = 0xF2;
        ex = Assert.Throws<Iso8583Exception>(() => Binary87.Unpack(bytes));
        Assert.Null(ex.Field);
        Assert.Equal(0, ex.Offset);
        Assert.Contains("MTI", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unpack_rejects_a_wrong_odd_length_pad_nibble()
    {
        var spec = Samples.OneField("""{ "class": "n", "max": 3, "encoding": "bcd" }""");
        var bytes = spec.Pack(spec.CreateMessage(200).Set(2, "123"));
        bytes[^2] = 0xF1; // pad nibble must be 0
        var ex = Assert.Throws<Iso8583Exception>(() => spec.Unpack(bytes));
        Assert.Equal("pad nibble 0", ex.Expected);
    }

    [Fact]
    public void Unpack_rejects_non_numeric_in_an_n_field()
    {
        var data = Ascii("0800" + "0020000000000000" + "00A712");
        var ex = Assert.Throws<Iso8583Exception>(() => Ascii87.Unpack(data));
        Assert.Equal(11, ex.Field);
        Assert.Equal(22, ex.Offset);
        Assert.Equal("digits 0-9", ex.Expected);
        Assert.Equal("0x41 at value position 2", ex.Found);
    }

    [Fact]
    public void Unpack_rejects_a_bitmap_bit_with_no_field_definition()
    {
        var spec = MessageSpec.Load("""{ "name": "small", "bitmap": { "encoding": "hex" }, "fields": { "3": { "class": "n", "max": 6 } } }""");
        var data = Ascii("0200" + "3000000000000000" + "000000" + "X");
        var ex = Assert.Throws<Iso8583Exception>(() => spec.Unpack(data));
        Assert.Equal(4, ex.Field);
        Assert.Equal(26, ex.Offset);

        // Bit 1 (secondary bitmap) in a spec without field 1.
        ex = Assert.Throws<Iso8583Exception>(() => spec.Unpack(Ascii("0200" + "A000000000000000" + "000000")));
        Assert.Equal(1, ex.Field);
    }

    [Fact]
    public void Unpack_rejects_trailing_bytes()
    {
        var bytes = Ascii87.Pack(Samples.Echo(Ascii87)).Append((byte)'X').ToArray();
        var ex = Assert.Throws<Iso8583Exception>(() => Ascii87.Unpack(bytes));
        Assert.Null(ex.Field);
        Assert.Equal(bytes.Length - 1, ex.Offset);
        Assert.Equal("1 trailing bytes", ex.Found);
    }

    [Fact]
    public void Unpack_rejects_lower_case_or_non_hex_bitmap_characters()
    {
        var ex = Assert.Throws<Iso8583Exception>(() => Ascii87.Unpack(Ascii("0800" + "002000000000000a" + "004712")));
        Assert.Equal(19, ex.Offset);
        Assert.Contains("primary bitmap", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unpack_rejects_malformed_BER_TLV_in_field_55()
    {
        var spec = Binary87;
        var bytes = spec.Pack(spec.CreateMessage(200).Set(55, Convert.FromHexString("9F2608112233")));
        var ex = Assert.Throws<Iso8583Exception>(() => spec.Unpack(bytes));
        Assert.Equal(55, ex.Field);
        Assert.Contains("BER-TLV", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unpack_rejects_empty_and_tiny_inputs()
    {
        foreach (var spec in new[] { Ascii87, Binary87 })
        {
            Assert.Throws<Iso8583Exception>(() => spec.Unpack([]));
            Assert.Throws<Iso8583Exception>(() => spec.Unpack([0x02]));
        }
    }

    [Fact]
    public void Unpack_of_a_message_without_fields_is_allowed()
    {
        var m = Ascii87.Unpack(Ascii("0800" + "0000000000000000"));
        Assert.Equal(0, m.Count);
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
