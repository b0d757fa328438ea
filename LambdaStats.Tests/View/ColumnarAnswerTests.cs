using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Cache;
using LambdaStats.Modules.View.Contracts;
using static LambdaStats.Tests.View.ViewCacheTestSupport;

namespace LambdaStats.Tests.View;

/// <summary>
/// The column-wise merge and reduction give the same totals and groups as merging rows by key
/// and reducing them one by one, for every kind of output, filters, group fields and limits.
/// </summary>
[TestFixture]
public sealed class ColumnarAnswerTests
{
    private static readonly object[] Cases =
    [
        new object[] { "everyKind", -1, 100, false },
        new object[] { "everyKind", 1, 5, false },
        new object[] { "everyKind", 2, 2, false },
        new object[] { "everyKind", 0, 10, false },
        new object[] { "everyKind", 1, 3, true },
        new object[] { "countAndExists", 1, 7, false },
        new object[] { "countAndExists", 1, 1000, false },
        new object[] { "countAndExists", -1, 10, true },
    ];

    [TestCaseSource(nameof(Cases))]
    public void Reduce_EqualsRowByRowReduction(string definitionName, int groupIndex, int limit, bool filterOnMedia)
    {
        var definition = definitionName == "everyKind" ? EveryKind : CountAndExists;
        var kinds = ColumnLayout.Of(definition);
        for (var seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed);
            var index = new HubKeyIndex();
            var answer = new ColumnarAnswer(definition, kinds, index);
            var expected = new Dictionary<AggregationKey, AggregateRow>();

            // Cached buckets hold one hub's rows; loose rows come from the speed layer.
            foreach (var bucket in RandomBuckets(definition, kinds, index, random, count: 6, maxEvents: 60, media: 12, expected))
            {
                answer.Add(bucket);
            }

            foreach (var (key, row) in RandomRows(definition, random, 40, media: 15).Where(pair => pair.Key[0] == "h1"))
            {
                Merge(expected, key, row);
                answer.Add(key, row);
            }

            var filter = filterOnMedia ? new KeyFilter("h1", [new KeyCondition(1, "m3")]) : new KeyFilter("h1");
            var (totals, groups) = answer.Reduce(filter, groupIndex, limit);
            var (expectedTotals, expectedGroups) = ReduceRowByRow(definition, expected, filter, groupIndex, limit);

            Assert.That(Json(totals, definition), Is.EqualTo(Json(expectedTotals, definition)), $"totals, seed {seed}");
            Assert.That(
                groups.Select(group => $"{group.Field}={group.Value}: {Json(group.Values, definition)}"),
                Is.EqualTo(expectedGroups),
                $"groups, seed {seed}");
        }
    }

    [Test]
    public void Add_LeavesInputsUnchanged()
    {
        var definition = EveryKind;
        var kinds = ColumnLayout.Of(definition);
        var index = new HubKeyIndex();
        var rows = RandomRows(definition, new Random(7), 50, media: 3).Where(pair => pair.Key[0] == "h1").ToList();
        var bucket = HubBucket.Build(kinds, index, rows.Select(pair => new KeyedRow(pair.Key, pair.Value.Clone())).ToList());
        var before = Enumerable.Range(0, bucket.Ids.Length).Select(i => Json(bucket.CreateRow(definition, i), definition)).ToList();
        var loose = rows[0].Value.Clone();
        var looseBefore = Json(loose, definition);

        var answer = new ColumnarAnswer(definition, kinds, index);
        answer.Add(bucket);
        answer.Add(bucket);
        answer.Add(rows[0].Key, loose);
        answer.Add(rows[0].Key, loose);
        answer.Reduce(new KeyFilter("h1"), 1, 10);

        Assert.That(Enumerable.Range(0, bucket.Ids.Length).Select(i => Json(bucket.CreateRow(definition, i), definition)), Is.EqualTo(before));
        Assert.That(Json(loose, definition), Is.EqualTo(looseBefore));
    }

    [Test]
    public void AddViews_FromPrefix_EqualsFullMerge()
    {
        var definition = EveryKind;
        var kinds = ColumnLayout.Of(definition);
        var random = new Random(11);
        var index = new HubKeyIndex();
        var buckets = new List<HubBucket>();
        var rowsByBucket = new List<List<KeyedRow>>();
        for (var bucket = 0; bucket < 6; bucket++)
        {
            var rows = RandomRows(definition, random, 80, media: 10)
                .Where(pair => pair.Key[0] == "h1")
                .Select(pair => new KeyedRow(pair.Key, pair.Value))
                .ToList();
            rowsByBucket.Add(rows);
            buckets.Add(HubBucket.Build(kinds, index, rows.Select(row => new KeyedRow(row.Key, row.Row.Clone())).ToList()));
        }

        var loose = RandomRows(definition, random, 60, media: 12).Where(pair => pair.Key[0] == "h1").ToList();
        var filter = new KeyFilter("h1");

        // Each query adds the speed rows after the views; they must not leak into a kept prefix.
        string Query(int count, ViewPrefix? prefix, out ViewPrefix? kept)
        {
            var answer = new ColumnarAnswer(definition, kinds, index);
            kept = answer.AddViews(buckets.Take(count).ToList(), prefix);
            foreach (var (key, row) in loose)
            {
                answer.Add(key, row);
            }

            var (totals, groups) = answer.Reduce(filter, 1, 4);
            return Json(totals, definition) + string.Join("|", groups.Select(group => group.Value + Json(group.Values, definition)));
        }

        string Expected(int count)
        {
            var merged = new Dictionary<AggregationKey, AggregateRow>();
            foreach (var row in rowsByBucket.Take(count).SelectMany(rows => rows))
            {
                Merge(merged, row.Key, row.Row);
            }

            foreach (var (key, row) in loose)
            {
                Merge(merged, key, row);
            }

            var (totals, groups) = ReduceRowByRow(definition, merged, filter, 1, 4);
            return Json(totals, definition) + string.Join("|", groups.Select(group => group[(group.IndexOf('=') + 1)..].Replace(": ", string.Empty, StringComparison.Ordinal)));
        }

        var first = Query(4, null, out var four);
        var extended = Query(6, four, out var six);
        var repeated = Query(6, six, out var sixAgain);
        var shorter = Query(4, four, out _);

        Assert.That(first, Is.EqualTo(Expected(4)), "four buckets, no prefix");
        Assert.That(extended, Is.EqualTo(Expected(6)), "six buckets from the prefix of four");
        Assert.That(repeated, Is.EqualTo(Expected(6)), "six buckets from the prefix of six");
        Assert.That(sixAgain, Is.SameAs(six), "a full match keeps the same prefix");
        Assert.That(shorter, Is.EqualTo(Expected(4)), "the prefix of four is unchanged by the later queries");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void BucketTotals_EqualRowByRowTotals(bool filterOnMedia)
    {
        var definition = EveryKind;
        var kinds = ColumnLayout.Of(definition);
        var filter = filterOnMedia ? new KeyFilter("h1", [new KeyCondition(1, "m2")]) : new KeyFilter("h1");
        for (var seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed);
            var index = new HubKeyIndex();
            var totals = new BucketTotals(definition, kinds, index, filter);
            var expected = new Dictionary<AggregationKey, AggregateRow>();

            // Several buckets share keys: an exists output counts each key once over all of them.
            foreach (var bucket in RandomBuckets(definition, kinds, index, random, count: 4, maxEvents: 50, media: 6, expected))
            {
                totals.Add(bucket);
            }

            foreach (var (key, row) in RandomRows(definition, random, 30, media: 8))
            {
                Merge(expected, key, row);
                totals.Add(key, row);
            }

            var (expectedTotals, _) = ReduceRowByRow(definition, expected, filter, -1, 0);
            Assert.That(Json(totals.Total, definition), Is.EqualTo(Json(expectedTotals, definition)), $"seed {seed}");
        }
    }

    /// <summary>Builds random buckets of hub h1 and merges their rows into <paramref name="expected"/> as well.</summary>
    private static List<HubBucket> RandomBuckets(
        AggregationDefinition definition,
        ColumnKind[] kinds,
        HubKeyIndex index,
        Random random,
        int count,
        int maxEvents,
        int media,
        Dictionary<AggregationKey, AggregateRow> expected)
    {
        var buckets = new List<HubBucket>(count);
        for (var bucket = 0; bucket < count; bucket++)
        {
            var rows = RandomRows(definition, random, random.Next(0, maxEvents), media)
                .Where(pair => pair.Key[0] == "h1")
                .Select(pair => new KeyedRow(pair.Key, pair.Value))
                .ToList();
            foreach (var row in rows)
            {
                Merge(expected, row.Key, row.Row);
            }

            buckets.Add(HubBucket.Build(kinds, index, rows));
        }

        return buckets;
    }

    private static void Merge(Dictionary<AggregationKey, AggregateRow> rows, AggregationKey key, AggregateRow row)
    {
        if (rows.TryGetValue(key, out var existing))
        {
            existing.Merge(row);
        }
        else
        {
            rows.Add(key, row.Clone());
        }
    }

    /// <summary>The reduction over rows by key, written out independently of the service.</summary>
    private static (AggregateRow Totals, List<string> Groups) ReduceRowByRow(
        AggregationDefinition definition,
        Dictionary<AggregationKey, AggregateRow> rows,
        KeyFilter filter,
        int groupIndex,
        int limit)
    {
        var matching = rows.Where(pair => filter.Matches(pair.Key)).ToList();
        var totals = definition.CreateTotalRow();
        foreach (var (_, row) in matching)
        {
            row.AddToTotal(totals);
        }

        if (groupIndex < 0)
        {
            return (totals, []);
        }

        var field = EventFields.JsonName(definition.Key[groupIndex]);
        var groups = matching
            .GroupBy(pair => pair.Key[groupIndex], StringComparer.Ordinal)
            .Select(group =>
            {
                var total = definition.CreateTotalRow();
                foreach (var (_, row) in group)
                {
                    row.AddToTotal(total);
                }

                return (Value: group.Key, Total: total);
            })
            .OrderByDescending(group => group.Total.Outputs[0].SortValue)
            .ThenBy(group => group.Value, StringComparer.Ordinal)
            .Take(limit)
            .Select(group => $"{field}={group.Value}: {Json(group.Total, definition)}")
            .ToList();
        return (totals, groups);
    }
}
