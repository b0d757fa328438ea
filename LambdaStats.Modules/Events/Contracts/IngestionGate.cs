namespace LambdaStats.Modules.Events.Contracts;

/// <summary>
/// Serialises "append to the store, then hand the new events to the speed layer" against the
/// batch layer's "read the store's highest sequence, then seal the speed buffers".
/// </summary>
/// <remarks>
/// Because both steps run under this gate, every event with a sequence at or below the sealed
/// sequence is already in the sealed speed buffers, and every later event lands in the new ones.
/// The gate works within one process. NOTE: several instances sharing Redis buffers need a
/// distributed lock here instead.
/// </remarks>
public sealed class IngestionGate
{
    private readonly SemaphoreSlim semaphore = new(1, 1);

    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(semaphore);
    }

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}
