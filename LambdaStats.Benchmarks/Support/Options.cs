using System.Globalization;

namespace LambdaStats.Benchmarks.Support;

/// <summary>Command-line options of the form <c>--name value</c>, read by name with a default.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> values = new(StringComparer.OrdinalIgnoreCase);

    public Options(IEnumerable<string> args)
    {
        string? pending = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (pending is not null)
                {
                    values[pending] = "true";
                }

                pending = arg[2..];
            }
            else if (pending is not null)
            {
                values[pending] = arg;
                pending = null;
            }
            else
            {
                throw new ArgumentException($"Unexpected argument '{arg}': options are written --name value.");
            }
        }

        if (pending is not null)
        {
            values[pending] = "true";
        }
    }

    public string String(string name, string defaultValue) => values.GetValueOrDefault(name, defaultValue);

    public string? OptionalString(string name) => values.GetValueOrDefault(name);

    public long Long(string name, long defaultValue) =>
        values.TryGetValue(name, out var text) ? ParseLong(name, text) : defaultValue;

    public int Int(string name, int defaultValue) => IntBetween(name, defaultValue, int.MinValue);

    /// <summary>Reads a 64-bit integer option that must be zero or more.</summary>
    public long NonNegativeLong(string name, long defaultValue) => LongAtLeast(name, defaultValue, 0);

    /// <summary>Reads a 64-bit integer option that must be one or more.</summary>
    public long PositiveLong(string name, long defaultValue) => LongAtLeast(name, defaultValue, 1);

    /// <summary>Reads an integer option that must be zero or more.</summary>
    public int NonNegativeInt(string name, int defaultValue) => IntBetween(name, defaultValue, 0);

    /// <summary>Reads an integer option that must be one or more.</summary>
    public int PositiveInt(string name, int defaultValue) => IntBetween(name, defaultValue, 1);

    private int IntBetween(string name, int defaultValue, int minimum)
    {
        var value = Long(name, defaultValue);
        return value >= minimum && value <= int.MaxValue
            ? (int)value
            : throw new ArgumentException($"Option --{name} must be between {minimum} and {int.MaxValue}, got {value}.");
    }

    private long LongAtLeast(string name, long defaultValue, long minimum)
    {
        var value = Long(name, defaultValue);
        return value >= minimum
            ? value
            : throw new ArgumentException($"Option --{name} must be {minimum} or more, got {value}.");
    }

    public bool Flag(string name) => values.TryGetValue(name, out var text) && text != "false";

    private static long ParseLong(string name, string text)
    {
        // Accepts 10_000_000 and 10,000,000 as well as 10000000.
        var digits = text.Replace("_", string.Empty, StringComparison.Ordinal).Replace(",", string.Empty, StringComparison.Ordinal);
        if (!long.TryParse(digits, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new ArgumentException($"Option --{name} must be an integer, got '{text}'.");
        }

        return value;
    }
}
