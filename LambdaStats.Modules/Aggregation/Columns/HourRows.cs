using System.Diagnostics.CodeAnalysis;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation.Columns;

/// <summary>
/// The rows of one aggregation in one hour of one segment: a tree of key values, one level per
/// key field, whose leaves are row numbers, and the states of each output in a column indexed by
/// row number.
/// </summary>
/// <remarks>
/// The tree is keyed by strings with the ordinal comparer, which .NET hashes with its fast
/// non-randomized string hash and switches to the randomized one when a bucket collects too many
/// collisions. So an event costs one string hash per key field, and none for the fields above
/// the leaf when it shares their string instances with the event before, as the events of one
/// request share their hub. The tree stores the pool's shared instance of each value. Not
/// thread-safe, so the speed buffer's lock covers every call.
/// </remarks>
internal sealed class HourRows
{
    private readonly EventField[] fields;
    private readonly RowStringPool pool;
    private readonly OutputColumn[] columns;
    private readonly KeyNode root = new();

    // For each level above the leaf: the node reached by the last event, its parent, and the
    // event's value that led there. Nodes are never removed, so an entry stays valid.
    private readonly KeyNode?[] recentParents;
    private readonly string?[] recentValues;
    private readonly KeyNode?[] recentNodes;

    private int rowCount;

    /// <param name="scratch">Where the pair columns move their pairs past a budget. Null keeps them in memory.</param>
    public HourRows(AggregationDefinition definition, RowStringPool pool, PairScratch? scratch = null)
    {
        fields = [.. definition.Key];
        this.pool = pool;
        columns = new OutputColumn[definition.Outputs.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = OutputColumn.Create(definition.Outputs[i], pool, scratch);
        }

        recentParents = new KeyNode?[fields.Length];
        recentValues = new string?[fields.Length];
        recentNodes = new KeyNode?[fields.Length];
    }

    public int Count => rowCount;

    public void Add(LambdaEvent e)
    {
        var node = root;
        var leafLevel = fields.Length - 1;
        for (var level = 0; level < leafLevel; level++)
        {
            node = ChildOf(node, level, ValueOf(e, level));
        }

        var leaf = ValueOf(e, leafLevel);
        var rows = node.Rows ??= new Dictionary<string, int>(StringComparer.Ordinal);
        if (!rows.TryGetValue(leaf, out var row))
        {
            row = rowCount++;
            rows.Add(pool.Acquire(leaf), row);
            foreach (var column in columns)
            {
                column.AddRow();
            }
        }

        foreach (var column in columns)
        {
            column.Add(row, e);
        }
    }

    /// <summary>
    /// Appends a copy of each row whose key matches <paramref name="filter"/>, or of every row
    /// when it is null, with its key. The caller owns the copies.
    /// </summary>
    public void CopyRows(KeyFilter? filter, List<KeyValuePair<AggregationKey, AggregateRow>> destination)
    {
        var path = new string[fields.Length];
        if (filter is null)
        {
            Collect(root, 0, path, null, destination);
            return;
        }

        // Every key starts with the hub, so only the hub's branch can match.
        path[0] = filter.HubId;
        if (fields.Length == 1)
        {
            if (root.Rows is { } rows && rows.TryGetValue(filter.HubId, out var row))
            {
                destination.Add(new(new AggregationKey(path), ToAggregateRow(row)));
            }
        }
        else if (root.Children is { } hubs && hubs.TryGetValue(filter.HubId, out var hub))
        {
            Collect(hub, 1, path, filter, destination);
        }
    }

    /// <summary>
    /// Returns a new row holding the state of <paramref name="key"/>, or false when no event of
    /// this hour has that key.
    /// </summary>
    public bool TryCopyRow(AggregationKey key, [MaybeNullWhen(false)] out AggregateRow row)
    {
        row = TryFind(key, out var number) ? ToAggregateRow(number) : null;
        return row is not null;
    }

    /// <summary>Returns the hubs of this hour's keys: the first value of every key, once each.</summary>
    public string[] CopyHubs() =>
        fields.Length == 1 ? root.Rows?.Keys.ToArray() ?? [] : root.Children?.Keys.ToArray() ?? [];

    /// <summary>Whether some event of this hour has the key <paramref name="key"/>.</summary>
    public bool Contains(AggregationKey key) => TryFind(key, out _);

    /// <summary>
    /// Enumerates the keys with a new copy of each row, made only when the enumeration reaches
    /// it. The keys of one hub come one after the other.
    /// </summary>
    /// <remarks>The hour must not change during the enumeration.</remarks>
    public IEnumerable<KeyValuePair<AggregationKey, AggregateRow>> EnumerateRows()
    {
        foreach (var (key, number) in EnumerateNumbers(root, 0, new string[fields.Length]))
        {
            yield return new(key, ToAggregateRow(number));
        }
    }

    /// <summary>Enumerates the keys in the order of <see cref="EnumerateRows"/>, without copying any row.</summary>
    public IEnumerable<AggregationKey> EnumerateKeys()
    {
        foreach (var (key, _) in EnumerateNumbers(root, 0, new string[fields.Length]))
        {
            yield return key;
        }
    }

    /// <summary>
    /// Releases this hour's uses of pooled strings (key values, group names and distinct values)
    /// and deletes its scratch files, before the hour is dropped.
    /// </summary>
    public void Release()
    {
        Release(root);
        foreach (var column in columns)
        {
            column.ReleaseStrings();
            column.DeleteScratchFile();
        }
    }

    /// <summary>Unmaps this hour's scratch files after a read of every row, so that their pages leave the process's resident set.</summary>
    public void UnmapScratchFiles()
    {
        foreach (var column in columns)
        {
            column.UnmapScratchFile();
        }
    }

    /// <summary>Deletes this hour's scratch files and keeps its pooled strings, for a buffer whose pool is cleared.</summary>
    public void DeleteScratchFiles()
    {
        foreach (var column in columns)
        {
            column.DeleteScratchFile();
        }
    }

    private static string ValueOf(LambdaEvent e, EventField field) => EventFields.GetString(e, field) ?? string.Empty;

    private string ValueOf(LambdaEvent e, int level) => ValueOf(e, fields[level]);

    private KeyNode ChildOf(KeyNode parent, int level, string value)
    {
        if (ReferenceEquals(recentValues[level], value) && ReferenceEquals(recentParents[level], parent))
        {
            return recentNodes[level]!;
        }

        var children = parent.Children ??= new Dictionary<string, KeyNode>(StringComparer.Ordinal);
        if (!children.TryGetValue(value, out var child))
        {
            child = new KeyNode();
            children.Add(pool.Acquire(value), child);
        }

        recentParents[level] = parent;
        recentValues[level] = value;
        recentNodes[level] = child;
        return child;
    }

    private void Collect(KeyNode node, int level, string[] path, KeyFilter? filter, List<KeyValuePair<AggregationKey, AggregateRow>> destination)
    {
        if (level == fields.Length - 1)
        {
            if (node.Rows is null)
            {
                return;
            }

            foreach (var (value, row) in node.Rows)
            {
                path[level] = value;

                // The key's constructor copies the values, so the path array is reused.
                var key = new AggregationKey(path);
                if (filter is null || filter.Matches(key))
                {
                    destination.Add(new(key, ToAggregateRow(row)));
                }
            }

            return;
        }

        if (node.Children is null)
        {
            return;
        }

        foreach (var (value, child) in node.Children)
        {
            path[level] = value;
            Collect(child, level + 1, path, filter, destination);
        }
    }

    private bool TryFind(AggregationKey key, out int row)
    {
        row = 0;
        if (key.Count != fields.Length)
        {
            return false;
        }

        var node = root;
        for (var level = 0; level < fields.Length - 1; level++)
        {
            if (node.Children is null || !node.Children.TryGetValue(key[level], out node))
            {
                return false;
            }
        }

        return node.Rows is not null && node.Rows.TryGetValue(key[fields.Length - 1], out row);
    }

    private IEnumerable<(AggregationKey Key, int Row)> EnumerateNumbers(KeyNode node, int level, string[] path)
    {
        if (level == fields.Length - 1)
        {
            foreach (var (value, row) in node.Rows ?? [])
            {
                path[level] = value;
                yield return (new AggregationKey(path), row);
            }

            yield break;
        }

        foreach (var (value, child) in node.Children ?? [])
        {
            path[level] = value;
            foreach (var entry in EnumerateNumbers(child, level + 1, path))
            {
                yield return entry;
            }
        }
    }

    private AggregateRow ToAggregateRow(int row)
    {
        var accumulators = new Accumulator[columns.Length];
        for (var i = 0; i < accumulators.Length; i++)
        {
            accumulators[i] = columns[i].ToAccumulator(row);
        }

        return new AggregateRow(accumulators);
    }

    private void Release(KeyNode node)
    {
        if (node.Rows is not null)
        {
            foreach (var value in node.Rows.Keys)
            {
                pool.Release(value);
            }
        }

        if (node.Children is not null)
        {
            foreach (var (value, child) in node.Children)
            {
                pool.Release(value);
                Release(child);
            }
        }
    }

    /// <summary>The values of the next key field under one prefix: child nodes above the leaf level, row numbers at it.</summary>
    private sealed class KeyNode
    {
        public Dictionary<string, KeyNode>? Children { get; set; }

        public Dictionary<string, int>? Rows { get; set; }
    }
}
