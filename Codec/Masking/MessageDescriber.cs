using System.Text;

namespace OrleansControl.Codec;

/// <summary>
/// The masked, human-readable view of a message: one line per field (number, name, value).
/// PANs show first 6 / last 4, secret fields (track data, PIN block, CVV-bearing) only their length,
/// and sensitive EMV tags inside TLV fields likewise. Never throws on odd content.
/// </summary>
internal static class MessageDescriber
{
    public static string Describe(IsoMessage message)
    {
        var spec = message.Spec;
        var sb = new StringBuilder();
        sb.Append("MTI ").Append(message.Mti.ToString()).Append(" (").Append(spec.Name).Append(')');
        foreach (var n in message.FieldNumbers)
        {
            var def = spec[n];
            var value = message.GetBytes(n);
            sb.AppendLine();
            sb.Append("  ").Append(n.ToString(System.Globalization.CultureInfo.InvariantCulture).PadRight(4))
                .Append((def?.Name ?? "(not in spec)").PadRight(44)).Append(' ');
            if (def is null)
            {
                // Unknown to the spec: we cannot know whether it is sensitive, so show only its length.
                sb.Append(Hidden(value.Length, "bytes"));
                continue;
            }

            AppendValue(sb, def, value.Span);
            if (def.Format == FieldFormat.Subfields && def.Sensitivity == Sensitivity.None)
            {
                AppendSubfields(sb, n, def, value);
            }
        }

        return sb.ToString();
    }

    /// <summary>One present field's value, masked as in <see cref="Describe"/>.</summary>
    public static string DescribeValue(IsoMessage message, int field)
    {
        var def = message.Spec[field];
        var value = message.GetBytes(field);
        if (def is null)
        {
            return Hidden(value.Length, "bytes");
        }

        var sb = new StringBuilder();
        AppendValue(sb, def, value.Span);
        return sb.ToString();
    }

    /// <summary>First 6 and last 4 digits of a PAN; anything shorter than 13 digits is masked entirely.</summary>
    public static string MaskPan(ReadOnlySpan<char> pan)
    {
        if (pan.Length < 13)
        {
            return new string('*', pan.Length);
        }

        return string.Concat(pan[..6], new string('*', pan.Length - 10), pan[^4..]);
    }

    private static void AppendValue(StringBuilder sb, FieldDefinition def, ReadOnlySpan<byte> value)
    {
        switch (def.Sensitivity)
        {
            case Sensitivity.Secret:
                sb.Append(Hidden(value.Length, def.Content == ContentClass.Binary ? "bytes" : "characters"));
                return;
            case Sensitivity.Pan:
                sb.Append(MaskPan(def.Content == ContentClass.Binary ? BcdDigits(value) : Latin1(value)));
                return;
        }

        if (def.Format == FieldFormat.Tlv)
        {
            AppendTlv(sb, def, value);
        }
        else if (def.Content == ContentClass.Binary)
        {
            sb.Append(Convert.ToHexString(value));
        }
        else
        {
            AppendText(sb, value);
        }
    }

    private static void AppendTlv(StringBuilder sb, FieldDefinition def, ReadOnlySpan<byte> value)
    {
        IReadOnlyList<TlvElement> elements;
        try
        {
            elements = Tlv.Parse(value.ToArray());
        }
        catch (Iso8583Exception)
        {
            sb.Append("[malformed BER-TLV, ").Append(value.Length).Append(" bytes]");
            return;
        }

        var first = true;
        foreach (var e in elements)
        {
            if (!first)
            {
                sb.Append(' ');
            }

            first = false;
            sb.Append(e.TagHex).Append('=');
            if (def.SensitiveTags.Contains(e.Tag))
            {
                sb.Append(Hidden(e.Value.Length, "bytes"));
            }
            else if (def.PanTags.Contains(e.Tag))
            {
                sb.Append(MaskPan(BcdDigits(e.Value.Span)));
            }
            else
            {
                sb.Append(Convert.ToHexString(e.Value.Span));
            }
        }
    }

    private static void AppendSubfields(StringBuilder sb, int n, FieldDefinition def, ReadOnlyMemory<byte> value)
    {
        IReadOnlyList<ReadOnlyMemory<byte>> parts;
        try
        {
            parts = def.ReadSubfields(value);
        }
        catch (Iso8583Exception)
        {
            return;
        }

        for (var i = 0; i < parts.Count; i++)
        {
            var sub = def.Subfields[i];
            sb.AppendLine();
            sb.Append("    ").Append($"{n}.{i + 1}".PadRight(6)).Append(sub.Name.PadRight(41)).Append(' ');
            AppendValue(sb, sub, parts[i].Span);
        }
    }

    private static string Hidden(int length, string unit) => $"[hidden, {length} {unit}]";

    private static string Latin1(ReadOnlySpan<byte> value) => Encoding.Latin1.GetString(value);

    // Compressed-numeric PAN (EMV tag 5A, or a binary PAN field): hex digits with trailing 'F' padding removed.
    private static string BcdDigits(ReadOnlySpan<byte> value) => Convert.ToHexString(value).TrimEnd('F');

    private static void AppendText(StringBuilder sb, ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is >= 0x20 and < 0x7F)
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
