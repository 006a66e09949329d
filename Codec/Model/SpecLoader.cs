using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansControl.Codec;

/// <summary>Reads the JSON spec format (see docs/codec.md) into a validated <see cref="MessageSpec"/>.</summary>
internal static class SpecLoader
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static MessageSpec Load(string json)
    {
        SpecDto dto;
        try
        {
            dto = JsonSerializer.Deserialize<SpecDto>(json, Options) ?? throw Bad(null, "a JSON object", "null");
        }
        catch (JsonException e)
        {
            throw Bad(null, "a valid spec document", $"JSON error at line {e.LineNumber + 1}: {e.Message.Split('.')[0]}");
        }

        var name = string.IsNullOrWhiteSpace(dto.Name) ? throw Bad(null, "a \"name\"", "none") : dto.Name;
        var mti = Encoding(dto.Mti?.Encoding ?? "ascii", null, "mti.encoding");
        if (mti is not (FieldEncoding.Ascii or FieldEncoding.Bcd or FieldEncoding.Ebcdic))
        {
            throw Bad(null, "mti.encoding ascii, bcd or ebcdic", mti.ToString());
        }

        var bitmap = (dto.Bitmap?.Encoding ?? "binary").ToLowerInvariant() switch
        {
            "binary" => BitmapEncoding.Binary,
            "hex" => BitmapEncoding.Hex,
            var other => throw Bad(null, "bitmap.encoding binary or hex", other),
        };

        var fields = new FieldDefinition?[IsoMessage.MaxField + 1];
        foreach (var (key, f) in dto.Fields ?? [])
        {
            if (!int.TryParse(key, out var n) || n is < 1 or > IsoMessage.MaxField)
            {
                throw Bad(null, "field numbers 1-192", $"\"{key}\"");
            }

            var def = Field(n, f, n, isSubfield: false);
            if (def.Content == ContentClass.Bitmap && n is not (1 or 65))
            {
                throw Bad(n, "class bitmap only for field 1 (secondary) or 65 (tertiary)", "bitmap");
            }

            if (n == 1 && def.Content != ContentClass.Bitmap)
            {
                throw Bad(1, "field 1 to be the secondary bitmap (class bitmap)", def.Content.ToString());
            }

            fields[n] = def;
        }

        if (fields[65]?.Content == ContentClass.Bitmap && fields[1] is null)
        {
            throw Bad(65, "a secondary bitmap (field 1) before a tertiary one", "none");
        }

        return new MessageSpec(name, dto.Description ?? "", mti, bitmap, fields);
    }

    private static FieldDefinition Field(int number, FieldDto f, int field, bool isSubfield)
    {
        var ctx = isSubfield ? $"subfield {number}" : null;
        var content = (f.Class ?? "").ToLowerInvariant() switch
        {
            "n" => ContentClass.Numeric,
            "a" => ContentClass.Alpha,
            "an" or "anp" => ContentClass.AlphaNumeric,
            "ans" or "as" or "ns" or "anps" => ContentClass.AlphaNumericSpecial,
            "b" => ContentClass.Binary,
            "z" or "track2" => ContentClass.Track2,
            "xn" or "x+n" => ContentClass.SignedAmount,
            "bitmap" when !isSubfield => ContentClass.Bitmap,
            var other => throw Bad(field, "class n, a, an, ans, b, z, xn or bitmap", $"\"{other}\"", ctx),
        };
        var name = f.Name ?? $"Field {number}";
        if (content == ContentClass.Bitmap)
        {
            return new FieldDefinition(number, name, content, LengthKind.Fixed, 8, FieldEncoding.Binary, FieldEncoding.Binary,
                PadSide.Left, 0, Sensitivity.None, FieldFormat.Plain, [], Empty, Empty);
        }

        var length = (f.Length ?? "fixed") switch
        {
            "fixed" => LengthKind.Fixed,
            "LL" => LengthKind.LL,
            "LLL" => LengthKind.LLL,
            "LLLL" => LengthKind.LLLL,
            "LLLLLL" => LengthKind.LLLLLL,
            var other => throw Bad(field, "length fixed, LL, LLL, LLLL or LLLLLL", $"\"{other}\"", ctx),
        };
        var max = f.Max ?? throw Bad(field, "a \"max\" length", "none", ctx);
        var prefix = Encoding(f.Prefix ?? "ascii", field, "prefix", ctx);
        var encoding = Encoding(f.Encoding ?? (content == ContentClass.Binary ? "binary" : "ascii"), field, "encoding", ctx);
        if (max < 1 || (length == LengthKind.Fixed && max > 999_999))
        {
            throw Bad(field, "max between 1 and 999999", $"{max}", ctx);
        }

        if (length != LengthKind.Fixed && max > LengthPrefix.Capacity(prefix, (int)length))
        {
            throw Bad(field, $"max at most {LengthPrefix.Capacity(prefix, (int)length)} for a {prefix} {length} prefix", $"{max}", ctx);
        }

        switch (encoding)
        {
            case FieldEncoding.Bcd when content is not (ContentClass.Numeric or ContentClass.Track2 or ContentClass.SignedAmount):
                throw Bad(field, "bcd encoding only for class n, z or xn", content.ToString(), ctx);
            case FieldEncoding.Hex when content != ContentClass.Binary:
                throw Bad(field, "hex encoding only for class b", content.ToString(), ctx);
            case FieldEncoding.Ebcdic when content == ContentClass.Binary:
                throw Bad(field, "ebcdic encoding only for text classes", content.ToString(), ctx);
        }

        var pad = (f.Pad ?? (content is ContentClass.Numeric or ContentClass.SignedAmount ? "left" : "right")) switch
        {
            "left" => PadSide.Left,
            "right" => PadSide.Right,
            var other => throw Bad(field, "pad left or right", $"\"{other}\"", ctx),
        };
        var padText = f.PadChar ?? (content is ContentClass.Numeric or ContentClass.SignedAmount ? "0" : content == ContentClass.Track2 ? "F" : " ");
        if (padText.Length != 1 || padText[0] > 0x7E || padText[0] < 0x20)
        {
            throw Bad(field, "padChar a single printable character", $"\"{padText}\"", ctx);
        }

        var sensitivity = (f.Sensitivity ?? "none") switch
        {
            "none" => Sensitivity.None,
            "pan" => Sensitivity.Pan,
            "secret" => Sensitivity.Secret,
            var other => throw Bad(field, "sensitivity none, pan or secret", $"\"{other}\"", ctx),
        };
        var format = (f.Format ?? "plain") switch
        {
            "plain" => FieldFormat.Plain,
            "tlv" when content == ContentClass.Binary => FieldFormat.Tlv,
            "subfields" when !isSubfield && encoding is FieldEncoding.Ascii or FieldEncoding.Binary or FieldEncoding.Hex => FieldFormat.Subfields,
            var other => throw Bad(field, "format plain, tlv (class b) or subfields (not nested, ascii/binary/hex encoding)", $"\"{other}\"", ctx),
        };
        var subfields = new List<FieldDefinition>();
        if (format == FieldFormat.Subfields)
        {
            if (f.Subfields is not { Count: > 0 })
            {
                throw Bad(field, "a non-empty \"subfields\" list", "none", ctx);
            }

            for (var i = 0; i < f.Subfields.Count; i++)
            {
                subfields.Add(Field(i + 1, f.Subfields[i], field, isSubfield: true));
            }
        }

        var def = new FieldDefinition(number, name, content, length, max, prefix, encoding, pad, (byte)padText[0],
            sensitivity, format, subfields,
            Tags(f.SensitiveTags ?? (format == FieldFormat.Tlv ? DefaultSensitiveTags : null), field),
            Tags(f.PanTags ?? (format == FieldFormat.Tlv ? DefaultPanTags : null), field));
        if (length == LengthKind.Fixed && def.CanPad && CharacterClasses.IndexOfInvalid(def, [def.PadChar]) >= 0)
        {
            throw Bad(field, $"padChar allowed in class {f.Class}", $"\"{padText}\"", ctx);
        }

        return def;
    }

    private static readonly IReadOnlySet<uint> Empty = new HashSet<uint>();

    // EMV tags hidden or PAN-masked in TLV fields unless a spec lists its own: track 1/2 equivalents (56, 57, 9F6B),
    // discretionary data (9F1F, 9F20), cardholder name (5F20), PIN data (99); application PAN (5A).
    private static readonly List<string> DefaultSensitiveTags = ["56", "57", "5F20", "9F1F", "9F20", "9F6B", "99"];
    private static readonly List<string> DefaultPanTags = ["5A"];

    private static HashSet<uint> Tags(List<string>? tags, int field)
    {
        var set = new HashSet<uint>();
        foreach (var t in tags ?? [])
        {
            if (t.Length is < 2 or > 8 || t.Length % 2 != 0 || !uint.TryParse(t, System.Globalization.NumberStyles.HexNumber, null, out var tag))
            {
                throw Bad(field, "TLV tags as 2-8 hex digits", $"\"{t}\"");
            }

            set.Add(tag);
        }

        return set;
    }

    private static FieldEncoding Encoding(string text, int? field, string what, string? ctx = null) => text.ToLowerInvariant() switch
    {
        "ascii" => FieldEncoding.Ascii,
        "bcd" => FieldEncoding.Bcd,
        "binary" => FieldEncoding.Binary,
        "ebcdic" => FieldEncoding.Ebcdic,
        "hex" => FieldEncoding.Hex,
        var other => throw Bad(field, $"{what} ascii, bcd, binary, ebcdic or hex", $"\"{other}\"", ctx),
    };

    private static Iso8583Exception Bad(int? field, string expected, string found, string? ctx = null) =>
        new(expected, found, field, null, ctx is null ? "spec" : $"spec, {ctx}");

    private sealed class SpecDto
    {
        public string? Name { get; set; }

        public string? Description { get; set; }

        public EncodingDto? Mti { get; set; }

        public EncodingDto? Bitmap { get; set; }

        public Dictionary<string, FieldDto>? Fields { get; set; }
    }

    private sealed class EncodingDto
    {
        public string? Encoding { get; set; }
    }

    private sealed class FieldDto
    {
        public string? Name { get; set; }

        public string? Class { get; set; }

        public string? Length { get; set; }

        public int? Max { get; set; }

        public string? Prefix { get; set; }

        public string? Encoding { get; set; }

        public string? Pad { get; set; }

        public string? PadChar { get; set; }

        public string? Sensitivity { get; set; }

        public string? Format { get; set; }

        public List<FieldDto>? Subfields { get; set; }

        public List<string>? SensitiveTags { get; set; }

        public List<string>? PanTags { get; set; }
    }
}
