using System.Globalization;
using System.Text;
using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Reversals;

/// <summary>
/// The original data elements a reversal carries, as data: a target field and its elements in order. Each element is
/// the original's MTI ("mti", 4 digits), a field of the original right-justified and zero-filled to that field's
/// maximum length ("7", "11", "32"), or a field with a 2-digit length prefix ("32:ll"). An absent field is zeros
/// (or length 00). The defaults are the standard's:
/// <list type="bullet">
/// <item>ISO 8583:1987 (MTI version 0): field 90, n 42 = 90.1 MTI n4, 90.2 STAN n6 (11), 90.3 transmission date and
/// time n10 (7), 90.4 acquiring institution id n11 (32), 90.5 forwarding institution id n11 (33).</item>
/// <item>ISO 8583:1993 and later (version 1, 2): field 56, LL n..35 = MTI n4, STAN n6 (11), local date and time n12
/// (12), acquiring institution id LL n..11 (32).</item>
/// </list>
/// </summary>
internal sealed class OriginalData
{
    private readonly Element[] _elements;

    private OriginalData(int field, Element[] elements)
    {
        Field = field;
        _elements = elements;
    }

    public int Field { get; }

    public static bool TryCreate(ReversalOptions options, MessageSpec spec, int version, out OriginalData? data, out string? error)
    {
        data = null;
        var field = options.OriginalDataField != 0 ? options.OriginalDataField : version == 0 ? 90 : 56;
        var names = options.OriginalDataElements is { Length: > 0 } configured ? configured
            : version == 0 ? ["mti", "11", "7", "32", "33"] : ["mti", "11", "12", "32:ll"];
        if (spec[field] is not { } target)
        {
            error = $"field {field} is not in spec {spec.Name}";
            return false;
        }

        var elements = new List<Element>();
        var longest = 0;
        foreach (var name in names)
        {
            var parts = name.Split(':');
            var prefixed = parts.Length == 2 && parts[1] == "ll";
            if (parts[0] == "mti" && parts.Length == 1)
            {
                elements.Add(new Element(0, 4, false));
                longest += 4;
            }
            else if ((parts.Length == 1 || prefixed) && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var n) && spec[n] is { } source)
            {
                elements.Add(new Element(n, source.MaxLength, prefixed));
                longest += source.MaxLength + (prefixed ? 2 : 0);
            }
            else
            {
                error = $"element '{name}' is not \"mti\", a field of spec {spec.Name}, or a field with \":ll\"";
                return false;
            }
        }

        var fits = target.IsFixed ? longest == target.MaxLength && elements.All(e => !e.Prefixed) : longest <= target.MaxLength;
        if (!fits)
        {
            error = $"elements [{string.Join(", ", names)}] take {longest} characters; field {field} is {(target.IsFixed ? "fixed" : "at most")} {target.MaxLength}";
            return false;
        }

        data = new OriginalData(field, [.. elements]);
        error = null;
        return true;
    }

    /// <summary>The field's value for <paramref name="original"/>.</summary>
    public string Compose(IsoMessage original)
    {
        var sb = new StringBuilder(48);
        foreach (var e in _elements)
        {
            var value = e.Field == 0 ? original.Mti.ToString() : original.GetString(e.Field)?.Trim() ?? "";
            if (value.Length > e.Width)
            {
                throw new SidecarException(SidecarError.InvalidMessage, $"field {e.Field} of the original is longer than {e.Width}; no reversal can carry it");
            }

            if (e.Prefixed)
            {
                sb.Append(value.Length.ToString("D2", CultureInfo.InvariantCulture)).Append(value);
            }
            else
            {
                sb.Append('0', e.Width - value.Length).Append(value);
            }
        }

        return sb.ToString();
    }

    /// <summary>One element: the original's MTI (field 0) or one of its fields, fixed width or LL-prefixed.</summary>
    private readonly record struct Element(int Field, int Width, bool Prefixed);
}
