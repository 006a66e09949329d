using System.Globalization;

namespace OrleansControl.Demo;

/// <summary>The faults the demo can inject, in the order it injects them.</summary>
internal enum FaultKind
{
    /// <summary>The scheme server carrying a connection killed with kill -9 (then started again).</summary>
    Kill,

    /// <summary>The scheme server carrying a connection black-holed (network namespace), or stopped (SIGSTOP).</summary>
    BlackHole,

    /// <summary>The link between the regions cut both ways, then restored (two regions only).</summary>
    Link,

    /// <summary>The (bank region's) controller killed with kill -9, then started again on the same ports. Last: its
    /// registry is in memory and registers its connections again from version 1, under a new incarnation the scheme's
    /// copy follows (see <see cref="Observation.Snapshot.RegistriesAgree"/>).</summary>
    Controller,
}

/// <summary>
/// Command line: <c>--duration</c> (seconds, or 90s / 2m; default: as long as the faults take), <c>--faults</c>
/// (none | all | a comma-separated list of kill, blackhole, link, controller; default all), <c>--rate</c> (0200s per second
/// per bank client; default 20), <c>--plain</c> (line output instead of the live table; the default when output is
/// redirected), <c>--no-namespaces</c> (SIGSTOP instead of a network black hole).
/// </summary>
internal sealed record DemoOptions(TimeSpan? Duration, IReadOnlyList<FaultKind> Faults, int Rate, bool Plain, bool Namespaces, int Regions,
    bool RealBackend = false)
{
    public const string Usage = """
        usage: dotnet run --project Demo -c Release -- [options]
          --duration N      run for N seconds (also 90s, 2m); default: as long as the faults take, plus a few seconds
          --faults LIST     none | all | comma-separated: kill, blackhole, link, controller (default: all, in that order)
          --rate N          0200s per second sent by each bank client (default: 20)
          --plain           line output instead of the live table (default when output is redirected)
          --no-namespaces   black-hole by SIGSTOP, not by a network namespace
          --regions 1|2     two regions (bank and scheme controllers linked by mutual TLS; default) or one controller
          --backend B       embedded (default: memory, nothing else needed) | real: each region on its own redis-server
                            (clustering, grain state, reminders, the connections:{id} registry; AOF on) and every event on
                            a Kafka-protocol broker (librdkafka's mock cluster, 3 brokers), all started and stopped by the demo
        exit code: 0 all well; 1 it could not run; 2 bad options; 3 something it started was left running;
                   4 a 0200 lost or without an outcome, an unknown fate not reversed, or a registry disagreeing with the link
                   (each said on a FAILED: line); 130 stopped by Ctrl-C
        """;

    public static DemoOptions Parse(string[] args)
    {
        TimeSpan? duration = null;
        IReadOnlyList<FaultKind> faults = Enum.GetValues<FaultKind>();
        var rate = 20;
        var plain = Console.IsOutputRedirected;
        var namespaces = true;
        var regions = 2;
        var real = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new DemoException($"{args[i]} needs a value{Environment.NewLine}{Usage}");
            switch (args[i])
            {
                case "--duration":
                    duration = ParseDuration(Value());
                    break;
                case "--faults":
                    faults = ParseFaults(Value());
                    break;
                case "--rate":
                    var r = Value();
                    rate = int.TryParse(r, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 2000
                        ? n
                        : throw new DemoException($"--rate must be a whole number from 1 to 2000, not '{r}'");
                    break;
                case "--plain":
                    plain = true;
                    break;
                case "--regions":
                    var g = Value();
                    regions = g is "1" or "2" ? int.Parse(g, CultureInfo.InvariantCulture) : throw new DemoException($"--regions must be 1 or 2, not '{g}'");
                    break;
                case "--backend":
                    var b = Value();
                    real = b switch
                    {
                        "embedded" or "memory" => false,
                        "real" => true,
                        _ => throw new DemoException($"--backend must be embedded or real, not '{b}'"),
                    };
                    break;
                case "--no-namespaces":
                    namespaces = false;
                    break;
                case "-h" or "--help":
                    throw new DemoException(Usage);
                default:
                    throw new DemoException($"unknown option '{args[i]}'{Environment.NewLine}{Usage}");
            }
        }

        return new DemoOptions(duration, faults, rate, plain, namespaces, regions, real);
    }

    private static TimeSpan ParseDuration(string s)
    {
        var (number, unit) = s.EndsWith('m') ? (s[..^1], 60) : s.EndsWith('s') ? (s[..^1], 1) : (s, 1);
        return double.TryParse(number, CultureInfo.InvariantCulture, out var v) && v > 0 && v * unit <= 24 * 3600
            ? TimeSpan.FromSeconds(v * unit)
            : throw new DemoException($"--duration must be a positive number of seconds (or 90s, 2m), not '{s}'");
    }

    private static FaultKind[] ParseFaults(string s) => s.Trim().ToLowerInvariant() switch
    {
        "none" => [],
        "all" => Enum.GetValues<FaultKind>(),
        _ => [.. s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(f => f.ToLowerInvariant() switch
        {
            "kill" => FaultKind.Kill,
            "blackhole" or "black-hole" => FaultKind.BlackHole,
            "controller" => FaultKind.Controller,
            "link" => FaultKind.Link,
            _ => throw new DemoException($"unknown fault '{f}': use none, all, or a list of kill, blackhole, controller, link"),
        })],
    };
}
