namespace OrleansControl.Codec;

/// <summary>
/// Message type indicator: four decimal digits — version, class, function, origin (e.g. 0200).
/// Stored as a number so reading it from the wire allocates nothing.
/// </summary>
public readonly record struct Mti
{
    public Mti(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 9999);
        Value = (ushort)value;
    }

    public ushort Value { get; }

    /// <summary>ISO 8583 version digit: 0 = 1987, 1 = 1993, 2 = 2003.</summary>
    public int Version => Value / 1000;

    /// <summary>Message class digit: 1 authorization, 2 financial, 4 reversal, 8 network management, ...</summary>
    public int Class => Value / 100 % 10;

    /// <summary>Message function digit: 0 request, 1 request response, 2 advice, 3 advice response, ...</summary>
    public int Function => Value / 10 % 10;

    /// <summary>Message origin digit: 0 acquirer, 1 acquirer repeat, 2 issuer, ...</summary>
    public int Origin => Value % 10;

    /// <summary>True for request/advice/notification functions with an even digit (0, 2, 4).</summary>
    public bool IsRequest => Function % 2 == 0 && Function < 6;

    /// <summary>The response MTI for a request: function digit + 1 (0200 → 0210, 0800 → 0810).</summary>
    public Mti ToResponse() => IsRequest ? new Mti(Value + 10) : throw new InvalidOperationException($"MTI {this} is not a request");

    public static Mti Parse(string digits) =>
        TryParse(digits, out var mti) ? mti : throw new FormatException("an MTI is four decimal digits");

    public static bool TryParse(ReadOnlySpan<char> digits, out Mti mti)
    {
        mti = default;
        if (digits.Length != 4)
        {
            return false;
        }

        var v = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            v = v * 10 + (c - '0');
        }

        mti = new Mti(v);
        return true;
    }

    public override string ToString() => Value.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes the four ASCII digits.</summary>
    public void WriteDigits(Span<byte> dest)
    {
        var v = Value;
        dest[3] = (byte)('0' + v % 10);
        dest[2] = (byte)('0' + v / 10 % 10);
        dest[1] = (byte)('0' + v / 100 % 10);
        dest[0] = (byte)('0' + v / 1000);
    }

    public static implicit operator Mti(int value) => new(value);
}
