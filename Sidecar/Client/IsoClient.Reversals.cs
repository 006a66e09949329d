using System.Collections.Concurrent;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Matching;
using OrleansControl.Sidecar.Reversals;

namespace OrleansControl.Sidecar.Client;

// Every transaction ends definite: a written request that ends without an answer is handed here by the matcher and,
// where its MTI is configured, reversed by store-and-forward (Reversals/StoreAndForward.cs) before the application
// hears of it. This file is the seam: the matcher's sink on one side, the link store-and-forward sends on on the other.
public sealed partial class IsoClient : IUnknownFateSink<IsoMessage>, IReversalLink
{
    private readonly StoreAndForward? _reversals;
    private readonly ConcurrentDictionary<Task, byte> _reversing = new();
    private readonly Signal _linkUp = new();
    private TaskCompletionSource _sessionReplaced = new(TaskCreationOptions.RunContinuationsAsynchronously); // guarded by _lock

    /// <summary>The link's reversals (pending, sent, acknowledged, given up); null when reversals are off.</summary>
    public ReversalStatus? Reversals() => _reversals?.Status();

    /// <summary>Raised for each reversal given up (after its retry schedule or age limit): the original needs settling by hand.</summary>
    public event Action<ReversalGivenUp>? ReversalGaveUp
    {
        add
        {
            if (_reversals is not null)
            {
                _reversals.GaveUp += value;
            }
        }

        remove
        {
            if (_reversals is not null)
            {
                _reversals.GaveUp -= value;
            }
        }
    }

    bool IUnknownFateSink<IsoMessage>.Reserve(PendingRequest<IsoMessage> pending)
    {
        if (_reversals is not { } reversals || !reversals.Covers(pending.Request.Mti.Value))
        {
            return false;
        }

        reversals.Originals.Reserve(pending.Key, pending);
        return true;
    }

    void IUnknownFateSink<IsoMessage>.Release(PendingRequest<IsoMessage> pending) => _reversals!.Originals.Release(pending.Key, pending);

    bool IUnknownFateSink<IsoMessage>.TakeOver(PendingRequest<IsoMessage> pending, Exception error)
    {
        var work = ReverseAsync(pending, error);
        if (!work.IsCompleted)
        {
            _reversing.TryAdd(work, 0);
            _ = work.ContinueWith(static (t, self) => ((ConcurrentDictionary<Task, byte>)self!).TryRemove(t, out _), _reversing,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return true;
    }

    /// <summary>Journals the reversal, then tells the application: "fate unknown, reversal queued" is only said once it is on disk.</summary>
    private async Task ReverseAsync(PendingRequest<IsoMessage> pending, Exception error)
    {
        QueuedReversal? queued = null;
        try
        {
            queued = await _reversals!.QueueAsync(pending.Request, pending.Key, NextStan()).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or Iso8583Exception or SidecarException)
        {
            _reversals!.Originals.Release(pending.Key, pending);
            Log.ReversalNotQueued(_logger, Name, pending.Request.Mti.Value, pending.Request.GetString(11), ex.Message);
        }

        _metrics.Request(RequestOutcome.FateUnknown, reversed: queued is not null);
        if (error is SidecarException failure)
        {
            var message = queued is null ? $"{failure.Message}; not reversed" : $"{failure.Message}; reversal #{queued.Id} {queued.Mti:D4} queued";
            pending.TrySetException(new SidecarException(failure.Error, message, failure.InnerException, queued));
        }
        else
        {
            RequestMatcher<IsoMessage>.Complete(pending, error);
        }
    }

    async Task IReversalLink.WaitUntilUpAsync(CancellationToken ct)
    {
        while (!IsUp())
        {
            await _linkUp.WaitAsync(TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false);
        }
    }

    Task? IReversalLink.TrySend(IsoMessage message)
    {
        IsoSession? session;
        Task replaced;
        lock (_lock)
        {
            session = _current;
            replaced = _sessionReplaced.Task;
        }

        return IsUp() && session is not null && session.TrySend(message) ? Task.WhenAny(session.Closed, replaced) : null;
    }

    /// <summary>Called by <see cref="Install"/> under the lock: the session reversals were written on is no longer the current one.</summary>
    private TaskCompletionSource ReplaceSession() => Interlocked.Exchange(ref _sessionReplaced, new(TaskCreationOptions.RunContinuationsAsynchronously));

    private bool IsUp() => _current is { IsClosed: false } && State is ConnectionState.SignedOn or ConnectionState.Degraded;

    /// <summary>Waits for reversals of requests failed at close to reach the journal, then closes it.</summary>
    private async ValueTask CloseReversalsAsync()
    {
        if (_reversals is null)
        {
            return;
        }

        await Task.WhenAll(_reversing.Keys).ConfigureAwait(false);
        await _reversals.DisposeAsync().ConfigureAwait(false);
    }
}
