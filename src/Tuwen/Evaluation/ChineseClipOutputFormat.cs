using System.Globalization;
using System.Text;

namespace Tuwen.Evaluation;

/// <summary>
/// Writes numbers and lists the way Chinese-CLIP's Python scripts do with <c>json.dumps</c>: floats as
/// Python's <c>repr</c> (shortest round-trip digits, ".0" on whole numbers, exponent form below 1e-4 and from
/// 1e16 as "1e-05"), lists as "[a, b]", objects as {"key": value, …} with ", " and ": " separators. That
/// makes our files diff cleanly against files its scripts wrote.
/// </summary>
public static class ChineseClipOutputFormat
{
    /// <summary>Python's <c>repr(float)</c> (and so <c>json.dumps</c>) for a double.</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "Infinity";
        if (double.IsNegativeInfinity(value)) return "-Infinity";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";

        // .NET's "R" gives the same shortest round-trip digits as Python; only the layout differs.
        var (negative, digits, pointPosition) = ShortestDigits(value);
        var text = new StringBuilder();
        if (negative) text.Append('-');
        // Python switches to exponent form when the decimal point would sit 4+ places left of the first digit, or past 16 digits.
        if (pointPosition < -3 || pointPosition > 16)
        {
            text.Append(digits[0]);
            if (digits.Length > 1) text.Append('.').Append(digits, 1, digits.Length - 1);
            int exponent = pointPosition - 1;
            text.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (pointPosition <= 0)
        {
            text.Append("0.").Append('0', -pointPosition).Append(digits);
        }
        else if (pointPosition >= digits.Length)
        {
            text.Append(digits).Append('0', pointPosition - digits.Length).Append(".0");
        }
        else
        {
            text.Append(digits, 0, pointPosition).Append('.').Append(digits, pointPosition, digits.Length - pointPosition);
        }
        return text.ToString();
    }

    /// <summary>A float32 value as Python prints it after <c>tensor.tolist()</c> (widened to double first).</summary>
    public static string Float(float value) => Float((double)value);

    /// <summary>"[1, 2, 3]".</summary>
    public static string IntegerList(IEnumerable<long> values) =>
        "[" + string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";

    /// <summary>"[0.1, -0.25]" of float32 values.</summary>
    public static void AppendFloatList(StringBuilder text, ReadOnlySpan<float> values)
    {
        text.Append('[');
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0) text.Append(", ");
            text.Append(Float(values[i]));
        }
        text.Append(']');
    }

    /// <summary>Digits without leading or trailing zeros and the decimal point's position: value = 0.digits × 10^pointPosition.</summary>
    private static (bool Negative, string Digits, int PointPosition) ShortestDigits(double value)
    {
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        bool negative = r.StartsWith('-');
        if (negative) r = r[1..];
        int exponent = 0;
        int e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }
        int dot = r.IndexOf('.');
        var integerPart = dot >= 0 ? r[..dot] : r;
        var fraction = dot >= 0 ? r[(dot + 1)..] : "";
        var all = integerPart + fraction;
        int point = integerPart.Length + exponent;
        int leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0') leading++;
        all = all[leading..];
        point -= leading;
        return (negative, all.TrimEnd('0'), point);
    }
}
