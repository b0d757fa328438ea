using System.Globalization;
using System.Text;
using System.Text.Json;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using static LambdaStats.Tests.Aggregation.AccumulatorTestSupport;

namespace LambdaStats.Tests.Aggregation;

[TestFixture]
public sealed class HyperLogLogSketchTests
{
    /// <summary>The relative standard error 1.04 / sqrt(2^14) of the default precision, 0.81%.</summary>
    private static readonly double StandardErrorP14 = 1.04 / Math.Sqrt(1 << 14);

    [Test]
    public void Estimate_EmptySketch_IsZero()
    {
        var sketch = new HyperLogLogSketch();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(sketch.Estimate(), Is.Zero);
            Assert.That(sketch.EstimateCount(), Is.Zero);
        }
    }

    [Test]
    public void Estimate_OneValueAddedOften_IsOne()
    {
        var sketch = new HyperLogLogSketch();
        for (var i = 0; i < 100; i++)
        {
            sketch.Add("visitor");
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(sketch.EstimateCount(), Is.EqualTo(1));
            Assert.That(sketch.SetRegisterCount, Is.EqualTo(1));
        }
    }

    /// <summary>
    /// One million distinct values at precision 14. The hash is fixed, so the error is the same on
    /// every run. The bound, 3 standard errors (2.44%), is what a correct sketch meets with
    /// probability 99.7% over the choice of values. A wrong rank, index or estimator constant
    /// misses it by far.
    /// </summary>
    [Test]
    public void Estimate_MillionDistinctValues_WithinThreeStandardErrors()
    {
        const int count = 1_000_000;
        var sketch = new HyperLogLogSketch(14);
        Span<char> buffer = stackalloc char[16];
        for (var i = 0; i < count; i++)
        {
            i.TryFormat(buffer, out var length, provider: CultureInfo.InvariantCulture);
            sketch.Add(buffer[..length]);
        }

        var relativeError = (sketch.Estimate() - count) / count;
        TestContext.Out.WriteLine($"estimate {sketch.Estimate():F0} for {count} values: relative error {relativeError:P3}, standard error {StandardErrorP14:P3}");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Math.Abs(relativeError), Is.LessThanOrEqualTo(3 * StandardErrorP14));
            Assert.That(sketch.IsSparse, Is.False, "a million values fill the registers");
        }
    }

    /// <summary>Small and middle cardinalities, where the classic estimator needs linear counting and bias tables.</summary>
    [TestCase(10)]
    [TestCase(100)]
    [TestCase(1_000)]
    [TestCase(5_000)]
    [TestCase(20_000)]
    [TestCase(50_000)]
    [TestCase(100_000)]
    public void Estimate_SmallerSets_WithinThreeStandardErrors(int count)
    {
        var sketch = new HyperLogLogSketch(14);
        for (var i = 0; i < count; i++)
        {
            sketch.Add($"visitor-{i}");
        }

        var relativeError = Math.Abs(sketch.Estimate() - count) / count;

        Assert.That(relativeError, Is.LessThanOrEqualTo(3 * StandardErrorP14), $"estimate {sketch.Estimate():F1} for {count}");
    }

    /// <summary>
    /// A month of hourly buckets: 120,000 visitors, each seen in 1 to 3 random hours, so hours
    /// overlap. Merging the 720 hourly sketches, directly or through 30 daily ones as the daily
    /// views do, must give the sketch of the union register by register, and so the same estimate.
    /// </summary>
    [Test]
    public void Merge_720HourlySketches_EqualsSketchOfUnion()
    {
        const int hours = 720;
        const int visitors = 120_000;
        var random = new Random(720);
        var hourly = Enumerable.Range(0, hours).Select(_ => new HyperLogLogSketch(14)).ToArray();
        var union = new HyperLogLogSketch(14);
        for (var visitor = 0; visitor < visitors; visitor++)
        {
            var value = $"visitor-{visitor}";
            union.Add(value);
            for (var seen = random.Next(1, 4); seen > 0; seen--)
            {
                hourly[random.Next(hours)].Add(value);
            }
        }

        var direct = new HyperLogLogSketch(14);
        foreach (var hour in hourly.OrderBy(_ => random.Next()))
        {
            direct.Merge(hour);
        }

        var daily = hourly.Chunk(24).Select(day =>
        {
            var sketch = new HyperLogLogSketch(14);
            foreach (var hour in day)
            {
                sketch.Merge(hour);
            }

            return sketch;
        }).ToArray();
        var throughDays = new HyperLogLogSketch(14);
        foreach (var day in daily.Reverse())
        {
            throughDays.Merge(day);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(hourly.All(hour => hour.IsSparse), Is.True, "every hourly sketch is small enough to stay sparse");
            Assert.That(FirstDifference(direct.GetRegisters(), union.GetRegisters()), Is.EqualTo(-1), "hours merged directly");
            Assert.That(FirstDifference(throughDays.GetRegisters(), union.GetRegisters()), Is.EqualTo(-1), "hours merged through days");
            Assert.That(direct.Estimate(), Is.EqualTo(union.Estimate()), "estimate");
            Assert.That(direct.IsSparse, Is.EqualTo(union.IsSparse), "representation");
            Assert.That(Math.Abs(union.Estimate() - visitors) / visitors, Is.LessThanOrEqualTo(3 * StandardErrorP14), "accuracy of the union");
        }
    }

    [Test]
    public void Merge_SparseIntoDense_EqualsSketchOfUnion()
    {
        var dense = SketchOf(14, 0, 10_000);
        var sparse = SketchOf(14, 9_900, 10_100);
        var union = SketchOf(14, 0, 10_100);

        var merged = dense.Clone();
        merged.Merge(sparse);
        var mergedOtherWay = sparse.Clone();
        mergedOtherWay.Merge(dense);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(dense.IsSparse, Is.False, "first operand");
            Assert.That(sparse.IsSparse, Is.True, "second operand");
            Assert.That(FirstDifference(merged.GetRegisters(), union.GetRegisters()), Is.EqualTo(-1), "dense + sparse");
            Assert.That(FirstDifference(mergedOtherWay.GetRegisters(), union.GetRegisters()), Is.EqualTo(-1), "sparse + dense");
            Assert.That(mergedOtherWay.IsSparse, Is.False, "a merge with a dense sketch is dense");
        }
    }

    [Test]
    public void Merge_TwoSparseSketchesOverLimit_TurnsDense()
    {
        var first = SketchOf(10, 0, 200);
        var second = SketchOf(10, 200, 400);

        first.Merge(second);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(second.IsSparse, Is.True, "200 values set fewer than 256 registers");
            Assert.That(first.IsSparse, Is.False, "their union sets more than 256");
            Assert.That(FirstDifference(first.GetRegisters(), SketchOf(10, 0, 400).GetRegisters()), Is.EqualTo(-1));
        }
    }

    [Test]
    public void Merge_DifferentPrecisions_ThrowsArgumentException()
    {
        var sketch = new HyperLogLogSketch(14);

        Assert.That(() => sketch.Merge(new HyperLogLogSketch(12)), Throws.ArgumentException.With.Message.Contains("precision 12"));
    }

    [Test]
    public void ConvertToDense_SparseSketch_KeepsRegistersAndEstimate()
    {
        var sketch = SketchOf(14, 0, 3_000);
        var registers = sketch.GetRegisters();
        var estimate = sketch.Estimate();
        var wasSparse = sketch.IsSparse;

        sketch.ConvertToDense();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(wasSparse, Is.True, "before");
            Assert.That(sketch.IsSparse, Is.False, "after");
            Assert.That(FirstDifference(sketch.GetRegisters(), registers), Is.EqualTo(-1), "registers");
            Assert.That(sketch.Estimate(), Is.EqualTo(estimate), "estimate");
        }
    }

    [Test]
    public void Add_PastQuarterOfRegisters_TurnsDense()
    {
        var sketch = new HyperLogLogSketch(10);
        var value = 0;
        while (sketch.SetRegisterCount < 256)
        {
            sketch.Add($"visitor-{value++}");
        }

        var sparseAtLimit = sketch.IsSparse;
        while (sketch.SetRegisterCount == 256)
        {
            sketch.Add($"visitor-{value++}");
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(sparseAtLimit, Is.True, "256 of 1024 registers set");
            Assert.That(sketch.IsSparse, Is.False, "257 of 1024 registers set");
        }
    }

    [Test]
    public void AddHash_RankBitsAllZero_StoresMaximumRank()
    {
        var sketch = new HyperLogLogSketch(14);

        sketch.AddHash(0);
        sketch.AddHash((5UL << 50) | (1UL << 47));

        var registers = sketch.GetRegisters();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(registers[0], Is.EqualTo(51), "rank 65 - 14 when the 50 rank bits are 0");
            Assert.That(registers[5], Is.EqualTo(3), "first 1 bit in third position of the rank bits");
        }
    }

    /// <summary>
    /// Fifty visitors at precision 14 set at most 50 registers: 3 bytes each, 4 characters in
    /// base64, plus about 40 bytes of JSON. That is under 250 bytes against 16 KiB for the dense state.
    /// </summary>
    [Test]
    public void SerializeState_SmallSketch_IsSparseAndSmall()
    {
        var output = HllOutput(14);
        var accumulator = AddAll(output, Enumerable.Range(0, 50).Select(i => Event(visitorId: $"visitor-{i}")));

        var state = State(accumulator);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(((HyperLogLogDistinctCountAccumulator)accumulator).Sketch.IsSparse, Is.True, "sparse");
            Assert.That(state, Does.StartWith("""[{"precision":14,"sparse":"""));
            Assert.That(Encoding.UTF8.GetByteCount(state), Is.LessThanOrEqualTo(250));
        }
    }

    /// <summary>A dense state packs 6-bit registers: 2^14 registers take 12,288 bytes, 16,384 in base64.</summary>
    [Test]
    public void SerializeState_DenseSketch_PacksSixBitRegisters()
    {
        var sketch = SketchOf(14, 0, 20_000);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            sketch.WriteState(writer);
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        var dense = document.RootElement.GetProperty("dense");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(dense.GetString(), Has.Length.EqualTo(16_384), "base64 characters");
            Assert.That(dense.GetBytesFromBase64(), Has.Length.EqualTo(12_288), "bytes");
        }
    }

    [TestCase(4)]
    [TestCase(14)]
    [TestCase(18)]
    public void ReadState_WrittenState_KeepsRegistersAndForm(int precision)
    {
        foreach (var count in new[] { 0, 3, 5_000 })
        {
            var sketch = SketchOf(precision, 0, count);
            var copy = new HyperLogLogSketch(precision);

            copy.ReadState(StateOf(sketch));

            using (Assert.EnterMultipleScope())
            {
                Assert.That(FirstDifference(copy.GetRegisters(), sketch.GetRegisters()), Is.EqualTo(-1), $"registers of {count} values");
                Assert.That(copy.IsSparse, Is.EqualTo(sketch.IsSparse), $"form of {count} values");
            }
        }
    }

    [Test]
    public void ReadState_OtherPrecision_ThrowsFormatException()
    {
        var state = StateOf(SketchOf(12, 0, 10));

        Assert.That(() => new HyperLogLogSketch(14).ReadState(state), Throws.TypeOf<FormatException>().With.Message.Contains("precision 12"));
    }

    [Test]
    public void ReadState_SparseEntriesOutOfOrder_ThrowsFormatException()
    {
        // Register 2 with rank 1, then register 1 with rank 1.
        var bytes = new byte[] { 0, 0, (2 << 6) | 1, 0, 0, (1 << 6) | 1 };
        var state = JsonDocument.Parse($$"""{"precision":14,"sparse":"{{Convert.ToBase64String(bytes)}}"}""").RootElement;

        Assert.That(() => new HyperLogLogSketch(14).ReadState(state), Throws.TypeOf<FormatException>().With.Message.Contains("out of order"));
    }

    [Test]
    public void ReadState_DenseOfWrongLength_ThrowsFormatException()
    {
        var state = JsonDocument.Parse($$"""{"precision":4,"dense":"{{Convert.ToBase64String(new byte[11])}}"}""").RootElement;

        Assert.That(() => new HyperLogLogSketch(4).ReadState(state), Throws.TypeOf<FormatException>().With.Message.Contains("expected 12"));
    }

    [Test]
    public void ReadState_ExactState_ThrowsFormatException()
    {
        var state = JsonDocument.Parse("""["v1","v2"]""").RootElement;

        Assert.That(() => new HyperLogLogSketch(14).ReadState(state), Throws.TypeOf<FormatException>().With.Message.Contains("recompute"));
    }

    [TestCase(3)]
    [TestCase(19)]
    public void Constructor_PrecisionOutOfRange_Throws(int precision)
    {
        Assert.That(() => new HyperLogLogSketch(precision), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Accumulator_NumericField_CountsByValue()
    {
        var output = new OutputDefinition("seconds", AggregatorKind.DistinctCount, EventField.DurationSeconds, mode: DistinctCountMode.HyperLogLog);
        var accumulator = AddAll(output, [Event(durationSeconds: 1.5), Event(durationSeconds: 1.5), Event(durationSeconds: 0.0), Event(durationSeconds: -0.0), Event()]);

        Assert.That(Value(accumulator), Is.EqualTo("2"));
    }

    [Test]
    public void Accumulator_TotalOverKeys_EstimatesUnion()
    {
        var definition = Definition(HllOutput(14));
        var first = definition.CreateRow();
        var second = definition.CreateRow();
        for (var i = 0; i < 3_000; i++)
        {
            first.Add(Event(visitorId: $"visitor-{i}", mediaId: "m1"));
            second.Add(Event(visitorId: $"visitor-{i + 2_000}", mediaId: "m2"));
        }

        var total = definition.CreateTotalRow();
        first.AddToTotal(total);
        second.AddToTotal(total);
        var estimate = total.Outputs[0].SortValue;

        Assert.That(Math.Abs(estimate - 5_000) / 5_000, Is.LessThanOrEqualTo(3 * StandardErrorP14), $"estimate {estimate} of 5000 visitors over two media");
    }

    /// <summary>Returns the first register index where the arrays differ, or -1 when they are equal.</summary>
    private static int FirstDifference(byte[] actual, byte[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), "register count");
        var common = actual.AsSpan().CommonPrefixLength(expected);
        return common == actual.Length ? -1 : common;
    }

    private static OutputDefinition HllOutput(int precision) =>
        new("visitors", AggregatorKind.DistinctCount, EventField.VisitorId, mode: DistinctCountMode.HyperLogLog, precision: precision);

    /// <summary>Returns a sketch of the values visitor-{from} to visitor-{to - 1}.</summary>
    private static HyperLogLogSketch SketchOf(int precision, int from, int to)
    {
        var sketch = new HyperLogLogSketch(precision);
        for (var i = from; i < to; i++)
        {
            sketch.Add($"visitor-{i}");
        }

        return sketch;
    }

    private static JsonElement StateOf(HyperLogLogSketch sketch)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            sketch.WriteState(writer);
        }

        return JsonDocument.Parse(buffer.ToArray()).RootElement;
    }
}
