using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using OrleansControl.Sidecar.Tests.Support;

namespace OrleansControl.Sidecar.Tests;

/// <summary>What the sidecar host writes to its console, as its own process: the format an operator and a log shipper read.</summary>
public sealed partial class LogFormatTests
{
    private const string Pan = "4111111111111111";
    private const string Track2 = "4111111111111111=29121010000000000000";
    private const string PinBlock = "0123456789ABCDEF";

    [Fact]
    public async Task By_default_every_log_entry_is_one_line_starting_with_a_utc_timestamp_and_carries_no_pan_track_or_pin()
    {
        using var journal = new TempJournal();
        await using var scheme = new Scheme { Answer = false };
        using var sidecar = await StartReversingAsync(scheme, journal, []);
        await SendUnansweredAsync(sidecar);

        var lines = await LogLinesAsync(sidecar, "reversal #");
        Assert.All(lines, line => Assert.Matches(SimpleLine(), line));
        var first = DateTimeOffset.ParseExact(SimpleLine().Match(lines[0]).Groups["at"].Value, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange(first, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddSeconds(5)); // UTC, not local time
        Assert.Contains(lines, l => l.Contains("reversal #", StringComparison.Ordinal) && l.Contains("411111******1111", StringComparison.Ordinal));
        AssertNoCardData(sidecar.Output);
    }

    [Fact]
    public async Task Json_format_chosen_by_configuration_gives_one_json_object_per_line_with_a_utc_timestamp()
    {
        using var journal = new TempJournal();
        await using var scheme = new Scheme { Answer = false };
        using var sidecar = await StartReversingAsync(scheme, journal, new() { ["Logging:Console:FormatterName"] = "json" });
        await SendUnansweredAsync(sidecar);

        var lines = await LogLinesAsync(sidecar, "reversal #");
        var entries = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(entries, e =>
        {
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e.GetProperty("Timestamp").GetString());
            Assert.False(string.IsNullOrEmpty(e.GetProperty("Category").GetString()));
        });
        Assert.Contains(entries, e => e.GetProperty("Message").GetString()!.Contains("reversal #", StringComparison.Ordinal));
        AssertNoCardData(sidecar.Output);
    }

    private static void AssertNoCardData(string output)
    {
        Assert.DoesNotContain(Pan, output, StringComparison.Ordinal);
        Assert.DoesNotContain(Track2[17..], output, StringComparison.Ordinal);
        Assert.DoesNotContain(PinBlock, output, StringComparison.OrdinalIgnoreCase);
    }

    private static Task<SidecarProcess> StartReversingAsync(Scheme scheme, TempJournal journal, Dictionary<string, string> extra)
    {
        var settings = new Dictionary<string, string>(extra)
        {
            ["Sidecar:Link:RequestTimeout"] = "00:00:00.400",
            ["Sidecar:Link:Reversals:Enabled"] = "true",
            ["Sidecar:Link:Reversals:JournalPath"] = journal.Path,
            ["Sidecar:Link:Reversals:ResponseTimeout"] = "00:00:00.300",
        };
        return SidecarProcess.StartAsync(scheme.Address, settings);
    }

    /// <summary>A 0200 with track 2 and a PIN block that the scheme never answers: the sidecar reverses it, and logs that.</summary>
    private static async Task SendUnansweredAsync(SidecarProcess sidecar)
    {
        await using var app = await Links.ConnectAsync(sidecar.RelayAddress);
        await app.SendAsync(Reversing.Original("000777"));
    }

    private static async Task<List<string>> LogLinesAsync(SidecarProcess sidecar, string awaited)
    {
        await Eventually.TrueAsync(() => sidecar.Output.Contains(awaited, StringComparison.Ordinal), TimeSpan.FromSeconds(15), $"a log line with '{awaited}'");
        var lines = sidecar.Output.Split(Environment.NewLine).Where(l => l.Length > 0).ToList();
        Assert.NotEmpty(lines);
        return lines;
    }

    /// <summary>2026-12-01T11:20:48.123Z info: Category[id] message, all on one line.</summary>
    [GeneratedRegex(@"^(?<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (trce|dbug|info|warn|fail|crit): \S+\[\d+\] .+$")]
    private static partial Regex SimpleLine();
}
