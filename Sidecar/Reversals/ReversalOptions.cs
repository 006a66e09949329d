using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Reversals;

/// <summary>Which STAN (field 11) a reversal carries; the original's is always in the original data elements.</summary>
public enum ReversalStan
{
    /// <summary>A fresh STAN from the link (ISO 8583:1987: a STAN names one exchange, and a reversal is a new one).</summary>
    New,

    /// <summary>The original's STAN again (dialects that key reversals on the original's trace number).</summary>
    Original,
}

/// <summary>
/// Timeout reversals with store-and-forward (<c>Sidecar:Link:Reversals</c>): for a request whose fate is unknown the
/// link builds the reversal, journals it, and sends it until it is acknowledged. See docs/sidecar.md, "Every
/// transaction ends definite", for the rules and why they are these.
/// </summary>
public sealed class ReversalOptions
{
    /// <summary>What <see cref="Mti"/> means when not set: 0200 → 0420. 0100 → 0400 is optional; 0800 never.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultMti = new Dictionary<string, string> { ["0200"] = "0420" };

    /// <summary>Fields copied from the original when present. Never track data, PIN block or ICC data (refused at start).</summary>
    public static readonly IReadOnlyList<int> DefaultCopyFields = [2, 3, 4, 12, 13, 22, 32, 33, 37, 41, 42, 49];

    /// <summary>
    /// Off in the library (an application in front of the relay must not reverse too); the sidecar host turns it on
    /// in its appsettings.json.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>Original request MTI → reversal MTI; replaces <see cref="DefaultMti"/> when set. An empty value turns one off.</summary>
    public Dictionary<string, string>? Mti { get; set; }

    /// <summary>The journal file. Default: <c>{LocalApplicationData}/orleanscontrol/sidecar/{link name}.reversals</c>.</summary>
    public string? JournalPath { get; set; }

    public ReversalStan Stan { get; set; } = ReversalStan.New;

    /// <summary>Replaces <see cref="DefaultCopyFields"/> when set.</summary>
    public int[]? CopyFields { get; set; }

    /// <summary>Fixed values to set in every reversal, e.g. { "39": "68" } or a 1993 message reason code { "25": "4021" }.</summary>
    public Dictionary<string, string> SetFields { get; set; } = [];

    /// <summary>The original data elements' field; 0 = by the reversal MTI's version (90 for 1987, 56 for 1993 and later).</summary>
    public int OriginalDataField { get; set; }

    /// <summary>Its elements in order ("mti", a field number, "32:ll" for an LL-prefixed one); empty = by the version (docs).</summary>
    public string[]? OriginalDataElements { get; set; }

    /// <summary>How long each transmission waits for its acknowledgement (0430) before the next is scheduled.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delay after the first unanswered transmission; it doubles up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Transmissions (0420 and its 0421 repeats) before the reversal is given up.</summary>
    public int MaxAttempts { get; set; } = 20;

    /// <summary>A reversal still unacknowledged this long after it was queued is given up, link or not.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long after its reversal ended a late response to the original is still recognised (and not delivered).</summary>
    public TimeSpan LateResponseWindow { get; set; } = TimeSpan.FromMinutes(15);

    public IReadOnlyDictionary<string, string> EffectiveMti => Mti ?? DefaultMti;

    /// <summary>The retry schedule: after the n-th unanswered transmission wait <see cref="RetryInitialDelay"/> × 2^(n-1), at most <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryDelayAfter(int transmissions) =>
        TimeSpan.FromTicks((long)Math.Min(RetryInitialDelay.Ticks * Math.Pow(2, Math.Clamp(transmissions - 1, 0, 40)), RetryMaxDelay.Ticks));

    public IReadOnlyList<int> EffectiveCopyFields => CopyFields ?? DefaultCopyFields;

    public string EffectiveJournalPath(string linkName) => JournalPath is { Length: > 0 } path
        ? Path.GetFullPath(path)
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify),
            "orleanscontrol", "sidecar", $"{linkName}.reversals");

    /// <summary>Errors in these options for a link using <paramref name="spec"/>; empty when valid.</summary>
    public IEnumerable<string> Validate(MessageSpec spec, string linkName)
    {
        foreach (var (original, reversal) in EffectiveMti)
        {
            if (!Codec.Mti.TryParse(original, out var o) || o.Class is not (1 or 2) || o.Function != 0)
            {
                yield return $"Reversals:Mti: '{original}' must be an authorization or financial request (x100, x200), never network management";
            }
            else if (reversal.Length > 0 && (!Codec.Mti.TryParse(reversal, out var r) || r.Class != 4 || r.Function is not (0 or 2) || r.Origin != 0 || r.Version != o.Version))
            {
                yield return $"Reversals:Mti: '{original}' → '{reversal}' must be a reversal request or advice of the same version (e.g. 0400, 0420)";
            }
        }

        foreach (var field in EffectiveCopyFields)
        {
            if (spec[field] is not { } def)
            {
                yield return $"Reversals:CopyFields: field {field} is not in spec {spec.Name}";
            }
            else if (def.Sensitivity == Sensitivity.Secret || def.SensitiveTags.Count > 0 || field is 11 or 7)
            {
                yield return $"Reversals:CopyFields: field {field} ({def.Name}) is never copied into a reversal";
            }
        }

        foreach (var (field, value) in SetFields)
        {
            if (!int.TryParse(field, out var n) || spec[n] is null || n is 7 or 11 || value.Length == 0)
            {
                yield return $"Reversals:SetFields: '{field}' must be a field of spec {spec.Name} other than 7 and 11, with a value";
            }
        }

        foreach (var version in EffectiveMti.Values.Where(v => v.Length == 4).Select(v => v[0] - '0').Distinct())
        {
            if (!OriginalData.TryCreate(this, spec, version, out _, out var error))
            {
                yield return $"Reversals:OriginalData: {error}";
            }
        }

        if (ResponseTimeout < TimeSpan.FromMilliseconds(50) || ResponseTimeout > TimeSpan.FromMinutes(5))
        {
            yield return "Reversals:ResponseTimeout must be 50 ms..5 min";
        }

        if (RetryInitialDelay < TimeSpan.FromMilliseconds(10) || RetryMaxDelay < RetryInitialDelay || RetryMaxDelay > TimeSpan.FromHours(6))
        {
            yield return "Reversals:RetryInitialDelay must be at least 10 ms and at most RetryMaxDelay (at most 6 h)";
        }

        if (MaxAttempts is < 1 or > 1000 || GiveUpAfter < TimeSpan.FromSeconds(1) || LateResponseWindow < TimeSpan.Zero)
        {
            yield return "Reversals:MaxAttempts must be 1..1000, GiveUpAfter at least 1 s, LateResponseWindow not negative";
        }

        string? pathError = null;
        try
        {
            if (string.IsNullOrEmpty(Path.GetDirectoryName(EffectiveJournalPath(linkName))))
            {
                pathError = "Reversals:JournalPath must name a file in a directory";
            }
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            pathError = $"Reversals:JournalPath is not a usable path: {ex.Message}";
        }

        if (pathError is not null)
        {
            yield return pathError;
        }
    }
}
