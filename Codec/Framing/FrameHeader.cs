namespace OrleansControl.Codec;

/// <summary>The length header in front of each message on a TCP stream.</summary>
public enum FrameHeader
{
    /// <summary>2-byte unsigned big-endian length ("binary2"), the most common.</summary>
    Binary2,

    /// <summary>4 ASCII decimal digits ("ascii4").</summary>
    Ascii4,

    /// <summary>2 bytes of packed BCD, 4 digits ("bcd2").</summary>
    Bcd2,

    /// <summary>4-byte unsigned big-endian length ("binary4").</summary>
    Binary4,
}
