using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>
/// Mutable state of one aggregator output for one key and bucket. Every implementation is a
/// commutative monoid: a new instance is the identity and <see cref="Merge"/> is associative and
/// commutative, so buckets and layers combine in any order. The batch layer and the speed layer
/// use the same classes, so they cannot disagree on what an output means.
/// </summary>
/// <remarks>Not thread-safe; callers synchronise.</remarks>
public abstract class Accumulator
{
    /// <summary>Adds one event; must not allocate once the key is warm.</summary>
    public abstract void Add(LambdaEvent e);

    /// <summary>Adds the state of <paramref name="other"/>, which has the same concrete type.</summary>
    public abstract void Merge(Accumulator other);

    /// <summary>Returns an independent copy.</summary>
    public abstract Accumulator Clone();

    /// <summary>Writes the state in the form <see cref="ReadState"/> reads back.</summary>
    public abstract void WriteState(Utf8JsonWriter writer);

    /// <summary>Replaces the state with one written by <see cref="WriteState"/>.</summary>
    public abstract void ReadState(JsonElement state);

    /// <summary>Writes the value that answers show.</summary>
    public abstract void WriteValue(Utf8JsonWriter writer);

    /// <summary>
    /// Folds this key's state into a total over several keys. Most outputs merge; <c>exists</c>
    /// counts the keys where it is set.
    /// </summary>
    public virtual void AddToTotal(Accumulator total) => total.Merge(this);

    /// <summary>The number used to sort groups: the count, sum, or number of set keys.</summary>
    public abstract double SortValue { get; }
}
