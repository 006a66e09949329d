namespace OrleansControl.Codec;

/// <summary>Where a field is, for error messages: field number, subfield position, and whether its value must stay hidden.</summary>
internal readonly record struct Site(int Field, int Subfield, bool Sensitive)
{
    public Iso8583Exception Error(int offset, string expected, string found) =>
        new(expected, found, Field, offset, Subfield > 0 ? $"subfield {Subfield}" : null);

    /// <summary>Describes an offending byte without revealing it when the field is sensitive.</summary>
    public string Byte(byte b, int position) =>
        Sensitive ? $"a disallowed byte at value position {position}" : $"0x{b:X2} at value position {position}";

    public static Site Of(FieldDefinition def) => new(def.Number, 0, def.Sensitivity != Sensitivity.None);
}
