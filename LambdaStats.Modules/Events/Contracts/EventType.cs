namespace LambdaStats.Modules.Events.Contracts;

/// <summary>The catalogue of event types. The names are the values of the JSON <c>type</c> field.</summary>
public enum EventType
{
    HubVisited = 1,
    MediaOpened,
    PageViewed,
    MediaDownloaded,
    MediaShared,
    PrintOrdered,
    ContactRequested,
    ReadConfirmed,
    MediaUploaded,
    Subscribed,
    Unsubscribed,
}
