using System.Globalization;
using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Reversals;

/// <summary>
/// Builds a reversal from its original, as pure functions of the options. The rules (docs/sidecar.md has them too):
/// <list type="bullet">
/// <item>MTI: the one configured for the original's (0200 → 0420); repeats are the same message with the origin's
/// repeat bit set (0421), nothing else changed: a repeat is the same exchange.</item>
/// <item>Field 11: a fresh STAN (<see cref="ReversalStan.New"/>, default) or the original's. The original's STAN is
/// always in the original data elements (<see cref="OriginalData"/>), which is how the scheme finds the original.</item>
/// <item>Field 37 (RRN) and the other copied fields: the original's, unchanged, only when present; never generated.</item>
/// <item>Field 7: the reversal's own transmission date and time (UTC, MMDDhhmmss), set once when it is built.</item>
/// <item>Never copied: track data, PIN block, CVV-bearing or ICC data (the options refuse them at start).</item>
/// </list>
/// </summary>
internal sealed class ReversalBuilder
{
    private readonly ReversalOptions _options;
    private readonly Dictionary<int, int> _reversalOf = [];
    private readonly Dictionary<int, OriginalData> _originalData = [];
    private readonly int[] _copy;
    private readonly (int Field, string Value)[] _set;

    public ReversalBuilder(ReversalOptions options, MessageSpec spec)
    {
        _options = options;
        foreach (var (original, reversal) in options.EffectiveMti)
        {
            if (reversal.Length == 0)
            {
                continue;
            }

            var version = reversal[0] - '0';
            if (!_originalData.ContainsKey(version))
            {
                if (!OriginalData.TryCreate(options, spec, version, out var data, out var error))
                {
                    throw new ArgumentException($"invalid reversal options: {error}", nameof(options));
                }

                _originalData[version] = data!;
            }

            _reversalOf[Mti.Parse(original).Value] = Mti.Parse(reversal).Value;
        }

        _copy = [.. options.EffectiveCopyFields];
        _set = [.. options.SetFields.Select(f => (int.Parse(f.Key, CultureInfo.InvariantCulture), f.Value))];
    }

    /// <summary>The field a reversal with this MTI carries its original data elements in (90 or 56).</summary>
    public int OriginalDataField(int reversalMti) => _originalData.TryGetValue(reversalMti / 1000, out var data) ? data.Field : 90;

    /// <summary>Whether a request with this MTI is reversed when its fate is unknown.</summary>
    public bool Covers(int mti) => _reversalOf.ContainsKey(mti);

    /// <summary>The reversal of <paramref name="original"/>; <paramref name="freshStan"/> is used under <see cref="ReversalStan.New"/>.</summary>
    public IsoMessage Build(IsoMessage original, string freshStan, DateTimeOffset now)
    {
        var mti = _reversalOf[original.Mti.Value];
        var reversal = original.Spec.CreateMessage(mti);
        foreach (var field in _copy)
        {
            if (original.TryGet(field, out var value))
            {
                reversal.SetOwned(field, value);
            }
        }

        reversal.Set(7, now.UtcDateTime.ToString("MMddHHmmss", CultureInfo.InvariantCulture));
        reversal.Set(11, _options.Stan == ReversalStan.Original && original.GetString(11) is { } stan ? stan : freshStan);
        var data = _originalData[mti / 1000];
        reversal.Set(data.Field, data.Compose(original));
        foreach (var (field, value) in _set)
        {
            reversal.Set(field, value);
        }

        return reversal;
    }

    /// <summary>The repeat of a reversal (0420 → 0421): a copy with the repeat bit of the MTI's origin digit set.</summary>
    public static IsoMessage Repeat(IsoMessage reversal)
    {
        var repeat = reversal.Clone();
        repeat.Mti = new Mti(reversal.Mti.Value | 1);
        return repeat;
    }
}
