namespace LambdaStats.Modules.Speed;

/// <summary>Settings of the speed layer, section <c>Speed</c>.</summary>
public sealed class SpeedOptions
{
    public const string SectionName = "Speed";

    /// <summary>Configuration key of <see cref="PairsInMemory"/>, as error messages name it.</summary>
    public const string PairsInMemoryKey = SectionName + ":" + nameof(PairsInMemory);

    /// <summary>
    /// Maximum number of pairs that one exact distinctCount or projectionAdd output keeps in memory
    /// for one hour: (row, value) pairs or (row, group, sum) triples. Past it, the output moves its
    /// pairs to an append-only scratch file under <c>&lt;Storage:DataDirectory&gt;/speed</c>. Must be 1 or more.
    /// </summary>
    public int PairsInMemory { get; set; } = 1_000_000;
}
