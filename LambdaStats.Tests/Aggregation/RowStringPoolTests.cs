using LambdaStats.Modules.Aggregation.Columns;

namespace LambdaStats.Tests.Aggregation;

[TestFixture]
public sealed class RowStringPoolTests
{
    [Test]
    public void Acquire_EqualValue_ReturnsFirst()
    {
        var pool = new RowStringPool();
        var first = new string("media-1".AsSpan());

        pool.Acquire(first);
        var shared = pool.Acquire(new string("media-1".AsSpan()));

        Assert.That(shared, Is.SameAs(first));
        Assert.That(pool.Count, Is.EqualTo(1));
    }

    [Test]
    public void Release_LastUse_DropsValue()
    {
        var pool = new RowStringPool();
        pool.Acquire("media-1");
        pool.Acquire("media-1");
        pool.Acquire("media-2");

        pool.Release("media-1");
        Assert.That(pool.Count, Is.EqualTo(2), "media-1 has one use left");

        pool.Release("media-1");
        Assert.That(pool.Count, Is.EqualTo(1));
    }

    [Test]
    public void Acquire_AfterDrop_KeepsNewInstance()
    {
        var pool = new RowStringPool();
        pool.Acquire("media-1");
        pool.Release("media-1");
        var second = new string("media-1".AsSpan());

        Assert.That(pool.Acquire(second), Is.SameAs(second));
    }

    [Test]
    public void Release_UnknownValue_Throws()
    {
        var pool = new RowStringPool();

        Assert.Throws<InvalidOperationException>(() => pool.Release("media-1"));
    }
}
