namespace LambdaStats.Benchmarks.Support;

/// <summary>Nearest-rank percentiles of a sample of durations in milliseconds.</summary>
internal sealed class Percentiles
{
    private readonly double[] sorted;

    public Percentiles(IEnumerable<double> samples)
    {
        sorted = samples.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("At least one sample is required.", nameof(samples));
        }
    }

    public int Count => sorted.Length;

    public double Min => sorted[0];

    public double Max => sorted[^1];

    public double At(double percentile)
    {
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public string Describe() =>
        FormattableString.Invariant($"n={Count} p50={At(50):F3} ms p90={At(90):F3} ms p99={At(99):F3} ms max={Max:F3} ms");
}
