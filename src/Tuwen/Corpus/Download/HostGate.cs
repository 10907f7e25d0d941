namespace Tuwen.Corpus.Download;

/// <summary>
/// Politeness towards one host: at most N requests at once and, if asked, a minimum gap between the starts
/// of two requests. Hosts are independent, so one slow site does not hold up the others.
/// </summary>
internal sealed class HostGate(int concurrency, TimeSpan delay)
{
    private readonly SemaphoreSlim _slots = new(concurrency, concurrency);
    private readonly Lock _lock = new();
    private DateTime _nextStart = DateTime.MinValue;

    public async Task EnterAsync(CancellationToken cancel)
    {
        await _slots.WaitAsync(cancel).ConfigureAwait(false);
        if (delay <= TimeSpan.Zero) return;
        TimeSpan wait;
        lock (_lock)
        {
            var now = DateTime.UtcNow;
            var start = _nextStart > now ? _nextStart : now;
            _nextStart = start + delay;
            wait = start - now;
        }
        try
        {
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancel).ConfigureAwait(false);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public void Release() => _slots.Release();
}
