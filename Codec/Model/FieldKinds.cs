namespace OrleansControl.Codec;

/// <summary>What characters a field may hold. JSON names in brackets.</summary>
public enum ContentClass
{
    /// <summary>Digits 0–9 ["n"].</summary>
    Numeric,

    /// <summary>Letters and space ["a"].</summary>
    Alpha,

    /// <summary>Letters, digits and space ["an", "anp"].</summary>
    AlphaNumeric,

    /// <summary>Printable ASCII 0x20–0x7E ["ans", "as", "ns"].</summary>
    AlphaNumericSpecial,

    /// <summary>Any bytes ["b"]; lengths count bytes.</summary>
    Binary,

    /// <summary>Track 2 / track 3 characters 0x30–0x3F ('=' separator, 'D' accepted) ["z", "track2"].</summary>
    Track2,

    /// <summary>Amount with a 'C' (credit) or 'D' (debit) sign then digits ["xn", "x+n"]; the sign counts in the length.</summary>
    SignedAmount,

    /// <summary>A secondary (field 1) or tertiary (field 65) bitmap ["bitmap"].</summary>
    Bitmap,
}

/// <summary>How the length of a field is known.</summary>
public enum LengthKind
{
    Fixed = 0,
    LL = 2,
    LLL = 3,
    LLLL = 4,
    LLLLLL = 6,
}

/// <summary>How a length prefix or a value is written on the wire.</summary>
public enum FieldEncoding
{
    /// <summary>ASCII characters (for a length prefix: decimal digits).</summary>
    Ascii,

    /// <summary>Packed BCD, two digits per byte, padded with one nibble when the digit count is odd.</summary>
    Bcd,

    /// <summary>Raw bytes (for a length prefix: big-endian unsigned integer).</summary>
    Binary,

    /// <summary>EBCDIC (code page 037) characters (for a length prefix: EBCDIC digits).</summary>
    Ebcdic,

    /// <summary>Each byte as two upper-case hex ASCII characters (for a length prefix: the binary form in hex).</summary>
    Hex,
}

/// <summary>Which side padding goes on: Left = right-justified value, Right = left-justified value.</summary>
public enum PadSide
{
    Left,
    Right,
}

/// <summary>How <see cref="IsoMessage.Describe"/> shows a field.</summary>
public enum Sensitivity
{
    None,

    /// <summary>A primary account number: shown as first 6 and last 4 digits.</summary>
    Pan,

    /// <summary>Track data, PIN block, CVV-bearing fields: never shown, only their length.</summary>
    Secret,
}

/// <summary>Inner structure of a field value.</summary>
public enum FieldFormat
{
    Plain,

    /// <summary>BER-TLV (EMV field 55). Raw bytes are kept, so unknown tags re-pack byte-identically.</summary>
    Tlv,

    /// <summary>Positional subfields, each with its own definition.</summary>
    Subfields,
}
