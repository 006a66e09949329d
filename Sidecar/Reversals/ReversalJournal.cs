using System.Threading.Channels;

namespace OrleansControl.Sidecar.Reversals;

/// <summary>
/// The store of store-and-forward: an append-only file of <see cref="JournalRecord"/>s, each appended and fsynced
/// before the caller goes on (appends that arrive together share one fsync). Opened exclusively (a second sidecar on
/// the same file fails at start), created 0600 in a 0700 directory, and emptied whenever no reversal is live.
/// </summary>
/// <remarks>
/// Why a local file and not the controller's storage: a reversal must be queued the moment a request's fate becomes
/// unknown, which is exactly when links and the controller are least likely to be reachable; the data path never
/// waits for the control path. The file holds the reversal as it will be sent (PAN included: the 0420 must carry
/// field 2), never track data, PIN blocks or ICC data, which a reversal never carries.
/// </remarks>
internal sealed class ReversalJournal : IAsyncDisposable
{
    private const UnixFileMode FileMode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly FileStream _file;
    private readonly Channel<Append> _appends = Channel.CreateUnbounded<Append>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private int _live;
    private long _length;

    private ReversalJournal(string path, FileStream file, int live)
    {
        Path = path;
        _file = file;
        _live = live;
        _writer = Task.Run(WriteLoopAsync);
    }

    public string Path { get; }

    /// <summary>Bytes in the file now (0 after it was emptied).</summary>
    public long Length => Volatile.Read(ref _length);

    /// <summary>Opens (or creates) the journal and replays it; a torn last record (a crash mid-append) is cut off.</summary>
    /// <exception cref="IOException">The file is held by another process or cannot be created.</exception>
    public static ReversalJournal Open(string path, out JournalContents contents)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, DirectoryMode0700);
        }

        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None, // on Unix an exclusive advisory lock: one sidecar per journal
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode0600;
        }

        FileStream file;
        try
        {
            file = new FileStream(path, options);
        }
        catch (IOException e)
        {
            // The usual cause: a second sidecar on this machine with the same link name and the default path.
            throw new IOException($"reversal journal {path} is held by another process: give each sidecar its own " +
                "Sidecar:Link:Reversals:JournalPath (one sidecar per journal)", e);
        }

        try
        {
            if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(file.SafeFileHandle) != FileMode0600)
            {
                File.SetUnixFileMode(file.SafeFileHandle, FileMode0600);
            }

            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            contents = JournalRecord.Replay(bytes, out var good);
            if (good < bytes.Length)
            {
                file.SetLength(good);
                file.Flush(flushToDisk: true);
            }

            file.Position = good;
            var journal = new ReversalJournal(path, file, contents.Pending.Count);
            journal._length = good;
            return journal;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Appends and fsyncs; completes once the record is on disk.</summary>
    public Task AppendAsync(JournalRecord record)
    {
        var append = new Append(record, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_appends.Writer.TryWrite(append))
        {
            throw new ObjectDisposedException(nameof(ReversalJournal), "the reversal journal is closed");
        }

        return append.Done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Append>();
        var reader = _appends.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (reader.TryRead(out var append))
            {
                batch.Add(append);
            }

            try
            {
                foreach (var append in batch)
                {
                    Write(append.Record);
                }

                _file.Flush(flushToDisk: true);
                Volatile.Write(ref _length, _file.Length);
                batch.ForEach(a => a.Done.TrySetResult());
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                batch.ForEach(a => a.Done.TrySetException(ex));
            }
        }
    }

    private void Write(JournalRecord record)
    {
        _file.Write(record.Encode());
        _live += record.Kind switch { JournalRecordKind.Queued => 1, JournalRecordKind.Ended => -1, _ => 0 };
        if (_live == 0)
        {
            // Nothing live: everything in the file is history. Records are written in order by this loop alone, so a
            // reversal queued after this one lands in the emptied file, never before it.
            _file.SetLength(0);
            _file.Position = 0;
        }
    }

    /// <summary>Lets go of a journal nothing was appended to yet (its owner failed to start).</summary>
    public void Abandon()
    {
        _appends.Writer.TryComplete();
        _file.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _appends.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        await _file.DisposeAsync().ConfigureAwait(false);
    }

    private sealed record Append(JournalRecord Record, TaskCompletionSource Done);
}
