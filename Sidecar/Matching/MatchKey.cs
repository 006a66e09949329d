namespace OrleansControl.Sidecar.Matching;

/// <summary>
/// What ties a response to its request: the MTI pair (request MTI with the response/repeat bits cleared,
/// so 0200, 0201 and 0210 all give 0200) plus the values of the key fields, by default STAN (11) and
/// terminal id (41). <see cref="Fields"/> is opaque and never logged: a dialect may key on sensitive fields.
/// </summary>
public readonly record struct MatchKey(int MtiPair, string Fields)
{
    /// <summary>0200/0210/0201 → 200; 0420/0430 → 420; 0800/0810 → 800. Works on the MTI as a 4-digit number.</summary>
    public static int PairOf(int mti) => mti - (mti % 100 / 10 % 2 * 10) - (mti % 2);

    /// <summary>True for the "request" half of a pair (function digit even: 0200, 0220, 0420, 0800 …).</summary>
    public static bool IsRequest(int mti) => mti % 100 / 10 % 2 == 0;

    public override string ToString() => $"MTI pair {MtiPair:D4}";
}
