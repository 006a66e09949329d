using OrleansControl.Codec;

namespace OrleansControl.Codec.Tests;

public sealed class RoundTripTests
{
    [Fact]
    public void BuiltIn_specs_are_the_three_shipped_dialects()
    {
        Assert.Equal(["iso8583-1987-ascii", "iso8583-1987-binary", "iso8583-1993-ascii"], MessageSpec.BuiltInNames);
        foreach (var name in MessageSpec.BuiltInNames)
        {
            Assert.Equal(name, MessageSpec.BuiltIn(name).Name);
        }
    }

    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Authorization_round_trips_byte_exactly(string specName)
    {
        var spec = MessageSpec.BuiltIn(specName);
        var original = Samples.Authorization(spec);
        var bytes = spec.Pack(original);

        var unpacked = spec.Unpack(bytes);

        Assert.Equal(original.Mti, unpacked.Mti);
        Assert.Equal(original.FieldNumbers, unpacked.FieldNumbers);
        Assert.Equal("000000001000", unpacked.GetString(4)); // fixed n12 zero-padded
        Assert.Equal(Samples.Pan, unpacked.GetString(2));
        Assert.Equal(Samples.Track2, unpacked.GetString(35));
        Assert.Equal(Samples.PinBlock, unpacked.GetBytes(52).ToArray());
        Assert.Equal(Samples.IccData, unpacked.GetBytes(55).ToArray());
        Assert.Equal(bytes, spec.Pack(unpacked));
    }

    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Echo_round_trips_byte_exactly(string specName)
    {
        var spec = MessageSpec.BuiltIn(specName);
        var bytes = spec.Pack(Samples.Echo(spec));
        Assert.Equal(bytes, spec.Pack(spec.Unpack(bytes)));
    }

    [Fact]
    public void Ascii_1987_authorization_has_the_expected_wire_layout()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var m = spec.CreateMessage(200).Set(2, Samples.Pan).Set(3, "000000").Set(11, 4711);
        var text = System.Text.Encoding.ASCII.GetString(spec.Pack(m));
        // MTI, hex bitmap with bits 2, 3 and 11, LL PAN, n6, n6 zero-padded
        Assert.Equal("0200" + "6020000000000000" + "16" + Samples.Pan + "000000" + "004711", text);
    }

    [Fact]
    public void Binary_1987_packs_bcd_mti_binary_bitmap_and_bcd_fields()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-binary");
        var m = spec.CreateMessage(200).Set(2, "4761739001010119123").Set(3, "000000").Set(35, "4761=2512");
        var bytes = spec.Pack(m);
        Assert.Equal(
            "0200" + "6000000020000000" + "19" + "04761739001010119123" + "000000" + "09" + "4761D2512F",
            Convert.ToHexString(bytes));
        Assert.Equal(bytes, spec.Pack(spec.Unpack(bytes)));
    }

    [Fact]
    public void Secondary_and_tertiary_bitmaps_are_computed_and_round_trip()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1993-ascii");
        var m = spec.CreateMessage(1804).Set(11, 1).Set(70, "301").Set(130, "PRIVATE").Set(192, new byte[8]);
        var bytes = spec.Pack(m);
        var text = System.Text.Encoding.ASCII.GetString(bytes);

        Assert.StartsWith("1804" + "8020000000000000" + "8400000000000000", text); // bits 1, 11 | 65, 70
        var back = spec.Unpack(bytes);
        Assert.Equal([11, 70, 130, 192], back.FieldNumbers);
        Assert.Equal("PRIVATE", back.GetString(130));
        Assert.Equal(bytes, spec.Pack(back));
    }

    [Fact]
    public void Pack_rejects_fields_above_128_when_the_spec_has_no_tertiary_bitmap()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var m = spec.CreateMessage(800).Set(140, "X");
        var ex = Assert.Throws<Iso8583Exception>(() => spec.Pack(m));
        Assert.Equal(140, ex.Field);
    }

    [Fact]
    public void An_empty_secondary_bitmap_received_is_kept_when_repacking()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var bytes = "0800" + "8020000000000000" + "0000000000000000" + "000001";
        var data = System.Text.Encoding.ASCII.GetBytes(bytes);
        Assert.Equal(data, spec.Pack(spec.Unpack(data)));
    }

    [Fact]
    public void Clone_is_independent_of_the_original()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var original = Samples.Authorization(spec);
        var copy = original.Clone();
        copy.Set(3, "310000").Remove(52);
        copy.Mti = 210;

        Assert.Equal("000000", original.GetString(3));
        Assert.True(original.Has(52));
        Assert.Equal(new Mti(200), original.Mti);
        Assert.Equal("310000", copy.GetString(3));
        Assert.False(copy.Has(52));
        Assert.Equal(original.Count - 1, copy.Count);
    }

    [Fact]
    public void Remove_keeps_other_fields_reachable()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var m = Samples.Authorization(spec);
        Assert.True(m.Remove(2));
        Assert.False(m.Remove(2));
        Assert.Null(m.GetString(2));
        Assert.Equal("000000", m.GetString(3));
        Assert.Equal(Samples.Track2, m.GetString(35));
        Assert.Equal(Samples.IccData, m.GetBytes(55).ToArray());
    }

    [Fact]
    public void Typed_accessors_read_numbers_and_text()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var m = spec.Unpack(spec.Pack(Samples.Authorization(spec)));
        Assert.Equal(1000, m.GetInt64(4));
        Assert.Equal(4711, m.GetInt64(11));
        Assert.False(m.TryGetInt64(41, out _));
        Assert.Null(m.GetString(39));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Set(1, "x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Set(193, "x"));
    }

    [Fact]
    public void Mti_exposes_its_four_digits_and_response()
    {
        var mti = Mti.Parse("0200");
        Assert.Equal((0, 2, 0, 0), (mti.Version, mti.Class, mti.Function, mti.Origin));
        Assert.Equal("0210", mti.ToResponse().ToString());
        Assert.Equal("1814", Mti.Parse("1804").ToResponse().ToString());
        Assert.False(Mti.TryParse("02A0", out _));
    }

    [Fact]
    public void A_message_can_be_packed_with_another_dialect()
    {
        var ascii = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var binary = MessageSpec.BuiltIn("iso8583-1987-binary");
        var fromAscii = ascii.Unpack(ascii.Pack(Samples.Authorization(ascii)));

        var translated = binary.Unpack(binary.Pack(fromAscii));

        Assert.Equal(fromAscii.FieldNumbers, translated.FieldNumbers);
        Assert.Equal(Samples.Track2, translated.GetString(35));
        Assert.Equal(Samples.IccData, translated.GetBytes(55).ToArray());
    }

    [Fact]
    public void Pack_rejects_a_value_for_field_65_when_the_spec_uses_it_as_tertiary_bitmap()
    {
        var v87 = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var v93 = MessageSpec.BuiltIn("iso8583-1993-ascii");
        var m = v87.CreateMessage(800).Set(65, new byte[] { 1 });
        Assert.Equal(65, Assert.Throws<Iso8583Exception>(() => v93.Pack(m)).Field);
    }

    [Fact]
    public void Fields_set_in_any_order_pack_in_ascending_order()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1993-ascii");
        var ascending = Samples.Authorization(spec).Set(130, "X").Set(100, "123");
        var shuffled = spec.CreateMessage(ascending.Mti);
        foreach (var n in ascending.FieldNumbers.OrderBy(n => (n * 37) % 11).ThenByDescending(n => n))
        {
            shuffled.SetOwned(n, ascending.GetBytes(n));
        }

        shuffled.Set(3, "999999").Set(3, "000000").Set(160, "Y");
        Assert.True(shuffled.Remove(160));

        Assert.Equal(ascending.FieldNumbers, shuffled.FieldNumbers);
        Assert.Equal(spec.Pack(ascending), spec.Pack(shuffled));
    }

    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Unpack_of_a_multi_segment_sequence_matches_the_contiguous_bytes(string specName)
    {
        var spec = MessageSpec.BuiltIn(specName);
        var bytes = spec.Pack(Samples.Authorization(spec));

        var fromSegments = spec.Unpack(Segments.OneBytePerSegment(bytes));

        Assert.Equal(bytes, spec.Pack(fromSegments));
        var truncated = Segments.OneBytePerSegment(bytes[..^1]);
        Assert.Throws<Iso8583Exception>(() => spec.Unpack(truncated));
    }
}
