using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Reversals;
using OrleansControl.Sidecar.Telemetry;

namespace OrleansControl.Sidecar.Tests.Support;

/// <summary>A journal path in a fresh temporary directory, removed afterwards.</summary>
internal sealed class TempJournal : IDisposable
{
    private readonly string _directory = global::System.IO.Path.Combine(global::System.IO.Path.GetTempPath(), $"oc-reversals-{Guid.NewGuid():N}");

    public string Path => global::System.IO.Path.Combine(_directory, "link.reversals");

    /// <summary>The journal's size (a stat: the link holds the file locked while it runs).</summary>
    public long Length => File.Exists(Path) ? new FileInfo(Path).Length : 0;

    /// <summary>Its contents; only once no link holds it.</summary>
    public byte[] Bytes() => File.Exists(Path) ? File.ReadAllBytes(Path) : [];

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

internal static class Reversing
{
    /// <summary>Reversals on, journaled at <paramref name="journal"/>, on a fast schedule for tests.</summary>
    public static Action<IsoClientOptions> On(string journal, Action<ReversalOptions>? configure = null, string? name = null) => o =>
    {
        o.Name = name ?? o.Name;
        o.Reversals.Enabled = true;
        o.Reversals.JournalPath = journal;
        o.Reversals.ResponseTimeout = TimeSpan.FromMilliseconds(300);
        o.Reversals.RetryInitialDelay = TimeSpan.FromMilliseconds(100);
        o.Reversals.RetryMaxDelay = TimeSpan.FromMilliseconds(200);
        configure?.Invoke(o.Reversals);
    };

    /// <summary>A 0200 as a terminal sends it: with track 2, a PIN block, an RRN and the acquirer, which a reversal treats differently.</summary>
    public static Codec.IsoMessage Original(string stan) => Scheme.Authorization(stan)
        .Set(7, "1201123456").Set(32, "123456").Set(37, "RRN000000042")
        .Set(35, "4111111111111111=29121010000000000000").Set(52, Convert.FromHexString("0123456789ABCDEF"));
}

/// <summary>Sums the sidecar's instruments for one link (tests run side by side, each link named apart).</summary>
internal sealed class SidecarMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new();

    public SidecarMeter(string link)
    {
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SidecarMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var ours = false;
            var detail = "";
            foreach (var tag in tags)
            {
                ours |= tag.Key == "link" && Equals(tag.Value, link);
                detail += tag.Key == "link" ? "" : $"|{tag.Key}={tag.Value}";
            }

            if (ours)
            {
                _sums.AddOrUpdate(instrument.Name, value, (_, v) => v + value);
                if (detail.Length > 0)
                {
                    _sums.AddOrUpdate(instrument.Name + detail, value, (_, v) => v + value);
                }
            }
        });
        _listener.Start();
    }

    /// <summary>The sum for an instrument, optionally with its tags other than the link (e.g. "|outcome=answered|reversed=False").</summary>
    public long this[string instrument] => _sums.TryGetValue(instrument, out var v) ? v : 0;

    public void Dispose() => _listener.Dispose();
}
