using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;

namespace LambdaStats.Tests.Speed;

[TestFixture]
public sealed class KeyStringPoolTests
{
    private static readonly EventField[] HubAndMedia = [EventField.HubId, EventField.MediaId];

    [Test]
    public void IdsOf_EqualValuesInOtherInstances_ReturnsSameIds()
    {
        var pool = new KeyStringPool(HubAndMedia);

        var first = pool.IdsOf(Event(new string("hub-1".AsSpan()), new string("media-1".AsSpan())));
        var second = pool.IdsOf(Event(new string("hub-1".AsSpan()), new string("media-1".AsSpan())));

        Assert.That(second, Is.EqualTo(first));
        Assert.That(pool.Count, Is.EqualTo(2));
    }

    [Test]
    public void IdsOf_ValueAtTwoPositions_SharesOneId()
    {
        var pool = new KeyStringPool(HubAndMedia);

        var ids = pool.IdsOf(Event("same", "same"));

        Assert.That(ids[1], Is.EqualTo(ids[0]));
        Assert.That(pool.Count, Is.EqualTo(1));
    }

    [Test]
    public void KeyOf_ReturnsTheEventsKey()
    {
        var pool = new KeyStringPool(HubAndMedia);
        var e = Event("hub-1", null);

        var key = pool.KeyOf(pool.IdsOf(e));

        Assert.That(key, Is.EqualTo(new AggregationKey(["hub-1", string.Empty])));
    }

    [Test]
    public void RemoveRow_LastUse_DropsValueAndReusesItsId()
    {
        var pool = new KeyStringPool(HubAndMedia);
        var kept = pool.IdsOf(Event("hub-1", "media-1"));
        pool.AddRow(kept);
        var dropped = pool.IdsOf(Event("hub-1", "media-2"));
        pool.AddRow(dropped);

        pool.RemoveRow(dropped);
        var reused = pool.IdsOf(Event("hub-1", "media-3"));
        pool.AddRow(reused);

        Assert.That(pool.Count, Is.EqualTo(3), "hub-1, media-1 and media-3");
        Assert.That(reused[1], Is.EqualTo(dropped[1]));
        Assert.That(pool.KeyOf(reused), Is.EqualTo(new AggregationKey(["hub-1", "media-3"])));
        Assert.That(pool.KeyOf(kept), Is.EqualTo(new AggregationKey(["hub-1", "media-1"])));
    }

    [Test]
    public void Translate_ValueInNoKey_ReturnsNull()
    {
        var pool = new KeyStringPool(HubAndMedia);
        pool.AddRow(pool.IdsOf(Event("hub-1", "media-1")));

        Assert.That(pool.Translate(new KeyFilter("hub-2")), Is.Null);
        Assert.That(pool.Translate(new KeyFilter("hub-1", [new KeyCondition(1, "media-9")])), Is.Null);
    }

    [Test]
    public void Translate_KnownValues_MatchesOnlyTheirKeys()
    {
        var pool = new KeyStringPool(HubAndMedia);
        var match = pool.IdsOf(Event("hub-1", "media-1"));
        var otherMedia = pool.IdsOf(Event("hub-1", "media-2"));
        var otherHub = pool.IdsOf(Event("hub-2", "media-1"));

        var filter = pool.Translate(new KeyFilter("hub-1", [new KeyCondition(1, "media-1")]))!;

        Assert.That(filter.Matches(match), Is.True);
        Assert.That(filter.Matches(otherMedia), Is.False);
        Assert.That(filter.Matches(otherHub), Is.False);
    }

    private static LambdaEvent Event(string hub, string? media) => new()
    {
        Id = Guid.NewGuid().ToString(),
        Type = EventType.MediaOpened,
        OccurredAt = new DateTimeOffset(2026, 5, 4, 10, 0, 0, TimeSpan.Zero),
        HubId = hub,
        MediaId = media,
    };
}
