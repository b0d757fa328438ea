using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Events.Contracts;
using Mediator;

namespace LambdaStats.Modules.Speed;

/// <summary>Keeps the speed buffers in step with ingestion and with the batch layer's signals.</summary>
internal sealed class SpeedNotificationHandlers(SpeedLayer speed) :
    INotificationHandler<EventsStored>,
    INotificationHandler<BatchStarting>,
    INotificationHandler<BatchCompleted>,
    INotificationHandler<BatchHourSliceComputed>,
    INotificationHandler<BatchFailed>,
    INotificationHandler<DailyViewsCompleted>
{
    public ValueTask Handle(EventsStored notification, CancellationToken cancellationToken)
    {
        speed.Add(notification.Events);
        return ValueTask.CompletedTask;
    }

    public ValueTask Handle(BatchStarting notification, CancellationToken cancellationToken)
    {
        speed.Get(notification.Aggregation).Seal(notification.Sequence, notification.RewritesFinalViews);
        return ValueTask.CompletedTask;
    }

    public ValueTask Handle(BatchCompleted notification, CancellationToken cancellationToken)
    {
        speed.Get(notification.Aggregation).Complete(notification.Frontier, notification.ComputedHours);
        return ValueTask.CompletedTask;
    }

    public ValueTask Handle(BatchHourSliceComputed notification, CancellationToken cancellationToken)
    {
        speed.Get(notification.Aggregation).CompareSlice(notification.Hour, notification.Sequence, notification.ContainsHub, notification.Rows);
        return ValueTask.CompletedTask;
    }

    public ValueTask Handle(BatchFailed notification, CancellationToken cancellationToken)
    {
        speed.Get(notification.Aggregation).Fail();
        return ValueTask.CompletedTask;
    }

    public ValueTask Handle(DailyViewsCompleted notification, CancellationToken cancellationToken)
    {
        speed.Get(notification.Aggregation).SetDailyFrontier(notification.Frontier);
        return ValueTask.CompletedTask;
    }
}
