namespace LambdaStats.Modules.Speed;

/// <summary>
/// The ids that a <see cref="KeyStringPool"/> gave to the values of one aggregation key, in key
/// order; positions after the key's last field are -1.
/// </summary>
internal readonly struct KeyIds : IEquatable<KeyIds>
{
    public const int Unused = -1;

    private readonly int id0;
    private readonly int id1;
    private readonly int id2;
    private readonly int id3;

    public KeyIds(int id0, int id1 = Unused, int id2 = Unused, int id3 = Unused)
    {
        this.id0 = id0;
        this.id1 = id1;
        this.id2 = id2;
        this.id3 = id3;
    }

    /// <summary>The id at <paramref name="index"/>, or <see cref="Unused"/> past the key's fields.</summary>
    public int this[int index] => index switch
    {
        0 => id0,
        1 => id1,
        2 => id2,
        3 => id3,
        _ => Unused,
    };

    public bool Equals(KeyIds other) => id0 == other.id0 && id1 == other.id1 && id2 == other.id2 && id3 == other.id3;

    public override bool Equals(object? obj) => obj is KeyIds other && Equals(other);

    // HashCode mixes with a seed chosen per process, so a client that controls the key values
    // cannot choose ids whose hashes collide.
    public override int GetHashCode() => HashCode.Combine(id0, id1, id2, id3);
}
