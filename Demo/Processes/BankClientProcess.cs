using System.Globalization;
using System.Text.RegularExpressions;

namespace OrleansControl.Demo.Processes;

/// <summary>One report line of the bank client: its counts so far, when the demo read it.</summary>
internal sealed record TrafficSample(TimeSpan At, string LinkState, long Sent, long Approved, long Declined, long Unavailable, long Timeouts,
    long Lost, long Refused, IReadOnlyDictionary<string, long> ApprovedBy)
{
    public static readonly TrafficSample Empty = new(TimeSpan.Zero, "-", 0, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>());

    /// <summary>Sent but without an outcome yet (in flight); 0 in the last report of a client that stopped its own way.</summary>
    public long Unaccounted => Sent - Approved - Declined - Unavailable - Timeouts - Lost - Refused;

    public long ApprovedByServer(string serverId) => ApprovedBy.TryGetValue(serverId, out var n) ? n : 0;
}

/// <summary>
/// The bank's application (<c>Sidecar/Samples/BankClient</c>) as its own process, sending 0200s at a steady rate through
/// its sidecar's relay port. It reports its outcome counts every 100 ms; the demo keeps every report, so "the first
/// approval by another server after the fault" is known to within 100 ms.
/// </summary>
internal sealed partial class BankClientProcess : IDisposable
{
    private readonly ChildProcess _process;
    private readonly List<TrafficSample> _samples = [TrafficSample.Empty];
    private readonly Lock _gate = new();
    private readonly Func<TimeSpan> _clock;

    private BankClientProcess(string name, int relayPort, int rate, Func<TimeSpan> clock)
    {
        Name = name;
        _clock = clock;
        _process = ChildProcess.Start(name, BuildOutput.BankClient,
            ["--Server", $"127.0.0.1:{relayPort}", "--Rate", rate.ToString(CultureInfo.InvariantCulture), "--ReportEvery", "100",
                "--TerminalId", TerminalId(name)],
            onLine: OnLine);
    }

    public string Name { get; }

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public TrafficSample Latest
    {
        get
        {
            lock (_gate)
            {
                return _samples[^1];
            }
        }
    }

    public static BankClientProcess Start(string name, int relayPort, int rate, Func<TimeSpan> clock) => new(name, relayPort, rate, clock);

    /// <summary>The last report at or before <paramref name="at"/>.</summary>
    public TrafficSample At(TimeSpan at)
    {
        lock (_gate)
        {
            return _samples.LastOrDefault(s => s.At <= at) ?? TrafficSample.Empty;
        }
    }

    /// <summary>The first report after <paramref name="after"/> in which a server other than <paramref name="notBy"/>
    /// approved more than it had at <paramref name="after"/> (any server when <paramref name="notBy"/> is null).</summary>
    public TrafficSample? FirstApproval(TimeSpan after, string? notBy)
    {
        lock (_gate)
        {
            var before = _samples.LastOrDefault(s => s.At <= after) ?? TrafficSample.Empty;
            return _samples.FirstOrDefault(s => s.At > after && s.ApprovedBy.Any(p => p.Key != notBy && p.Value > before.ApprovedByServer(p.Key)));
        }
    }

    /// <summary>Approvals per second over the last second.</summary>
    public double ApprovalRate()
    {
        lock (_gate)
        {
            var last = _samples[^1];
            var earlier = _samples.LastOrDefault(s => s.At <= last.At - TimeSpan.FromSeconds(1)) ?? TrafficSample.Empty;
            var span = (last.At - earlier.At).TotalSeconds;
            return span <= 0 ? 0 : (last.Approved - earlier.Approved) / span;
        }
    }

    /// <summary>Approvals per second over the last second by one server.</summary>
    public double ApprovalRate(string serverId)
    {
        lock (_gate)
        {
            var last = _samples[^1];
            var earlier = _samples.LastOrDefault(s => s.At <= last.At - TimeSpan.FromSeconds(1)) ?? TrafficSample.Empty;
            var span = (last.At - earlier.At).TotalSeconds;
            return span <= 0 ? 0 : (last.ApprovedByServer(serverId) - earlier.ApprovedByServer(serverId)) / span;
        }
    }

    /// <summary>Stops sending and waits for the answers still in flight (its SIGTERM path), so that its last
    /// report accounts for every 0200 it sent.</summary>
    public async Task<TrafficSample> StopAsync()
    {
        if (!_process.HasExited && !await _process.TerminateAsync(TimeSpan.FromSeconds(8)))
        {
            _process.Kill();
        }

        return Latest;
    }

    public string Tail(int lines = 20) => _process.Tail(lines);

    /// <summary>Field 41 is exactly 8 characters: TERM0001 for bank-1, TERM0002 for bank-2.</summary>
    private static string TerminalId(string name) => $"TERM{name[^1..].ToUpperInvariant().PadLeft(4, '0')}";

    public void Dispose() => _process.Dispose();

    private void OnLine(string line)
    {
        var m = Report().Match(line);
        if (!m.Success)
        {
            return;
        }

        var by = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var pair in m.Groups["by"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.LastIndexOf(':');
            if (colon > 0 && long.TryParse(pair.AsSpan(colon + 1), CultureInfo.InvariantCulture, out var n))
            {
                by[pair[..colon]] = n;
            }
        }

        long L(string g) => long.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        // The client's outcomes: not sent (definitely not processed) and unknown fate (sent, no answer; reversed by the
        // sidecar when it says so). Nothing else is left over: lost and refused stay 0.
        var sample = new TrafficSample(_clock(), m.Groups["state"].Value, L("sent"), L("approved"), L("declined"), L("notsent"), L("unknown"),
            0, 0, by);
        lock (_gate)
        {
            _samples.Add(sample);
        }
    }

    [GeneratedRegex(@"(state=(?<state>\S+) )?sent=(?<sent>\d+) approved=(?<approved>\d+) declined=(?<declined>\d+) not_sent=(?<notsent>\d+) unknown_fate=(?<unknown>\d+) \(reversed=(?<reversed>\d+)\) approved-by=(?<by>\S*)")]
    private static partial Regex Report();
}
