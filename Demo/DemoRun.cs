using System.Runtime.InteropServices;
using OrleansControl.Demo.Display;
using OrleansControl.Demo.Faults;
using OrleansControl.Demo.Network;
using OrleansControl.Demo.Observation;
using OrleansControl.Demo.Processes;
using Spectre.Console;

namespace OrleansControl.Demo;

/// <summary>
/// One run: start everything, show it live, inject the faults, print the summary, and stop everything it started
/// (also on Ctrl-C, SIGTERM or a failed start), then check that no process and no port of it is left.
/// Exit codes: 0 done, 1 could not start or run, 2 bad options, 3 something was left running, 130 stopped by a signal.
/// </summary>
internal static class DemoRun
{
    private static readonly TimeSpan DefaultCalm = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan NoFaultDuration = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        DemoOptions options;
        try
        {
            options = DemoOptions.Parse(args);
        }
        catch (DemoException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; stop.Cancel(); });
        var console = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = 160; // a log or a test reads it: no wrapping at 80 columns
        }

        var clock = new DemoClock();
        void Say(string text) => console.MarkupLine($"[grey]{DemoClock.Format(clock.Now)}[/] {Markup.Escape(text)}");

        foreach (var swept in RunRecord.SweepAbandonedRuns())
        {
            Say(swept);
        }

        var namespaces = false;
        if (options.Namespaces && options.Faults.Contains(FaultKind.BlackHole))
        {
            namespaces = NetworkNamespace.CanCreate(out var reason);
            Say(namespaces
                ? "black hole: each scheme server runs in its own network namespace"
                : $"black hole: no network namespaces here ({reason}); a black-holed server is a stopped process (SIGSTOP) instead");
        }

        Say(options.Regions == 2
            ? "two regions: a bank controller and a scheme controller (separate Orleans clusters), linked by mutual TLS"
            : "one region: bank and scheme share one controller");
        Installation? installation = null;
        var exit = 0;
        try
        {
            installation = await Installation.StartAsync(options, clock, namespaces, Say, stop.Token);
            foreach (var controller in installation.Regions.Controllers)
            {
                Say($"web view of the {controller.Region} controller: {controller.WebView} (sign in with token {controller.WebViewToken}" +
                    (controller.WebView.Scheme == "https" ? "; the browser will not know the demo's CA: accept it, or trust the certificate folder's ca.pem)" : ")"));
            }

            exit = await ShowAsync(installation, options, console, Say, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Say("stopped (signal) while starting");
            exit = 130;
        }
        catch (DemoException e)
        {
            console.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            exit = 1;
        }
        catch (Exception e)
        {
            // In words for the user; the stack trace goes to a file for whoever investigates.
            var trace = Path.Combine(Path.GetTempPath(), $"orleanscontrol-demo-failure-{Environment.ProcessId}.txt");
            File.WriteAllText(trace, e.ToString());
            console.MarkupLine($"[red]the demo failed: {Markup.Escape(Innermost(e))} (details: {Markup.Escape(trace)})[/]");
            exit = 1;
        }
        finally
        {
            if (installation is not null)
            {
                Say("stopping everything it started");
                await installation.DisposeAsync();
            }

            if (!NothingLeft(Say))
            {
                exit = 3;
            }
        }

        return exit;
    }

    private static string Innermost(Exception e) => e.InnerException is null || e.Message.Contains(e.InnerException.Message, StringComparison.Ordinal)
        ? e.Message
        : $"{e.Message}: {Innermost(e.InnerException)}";

    private static async Task<IReadOnlyDictionary<string, SidecarReversals?>> SettledReversalsAsync(Installation installation, Action<string> say)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
        var last = new Dictionary<string, SidecarReversals?>();
        for (; ; )
        {
            foreach (var bank in installation.Banks)
            {
                try
                {
                    last[bank.ClientId] = (await bank.Sidecar.StatusAsync(CancellationToken.None)).Reversals;
                }
                catch (HttpRequestException)
                {
                    last[bank.ClientId] = null; // the sidecar is not answering: its reversals are unknown, said as such
                }
            }

            if (last.Values.All(r => r is { Pending: 0 }) || DateTimeOffset.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(200);
        }

        foreach (var (client, r) in last.Where(x => x.Value is not { Pending: 0 }))
        {
            say(r is null ? $"{client}: its sidecar did not say how its reversals ended" : $"{client}: {r.Pending} reversal(s) still pending after 10 s");
        }

        return last;
    }

    private static async Task<int> ShowAsync(Installation installation, DemoOptions options, IAnsiConsole console, Action<string> say, CancellationToken stop)
    {
        var observer = new Observer(installation);
        var timeline = new Timeline(installation.Clock, observer);
        var scenario = new Scenario(installation, observer, timeline, options);
        var screen = new Screen(installation, observer, timeline, () => scenario.Phase, installation.Regions.Describe());
        using var observing = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var observe = observer.RunAsync(observing.Token);
        if (options.Plain)
        {
            timeline.Logged += (at, text) => console.MarkupLine($"[grey]{DemoClock.Format(at)}[/] {Markup.Escape(text)}");
        }

        var started = installation.Clock.Now;
        var story = StoryAsync(scenario, options, installation.Clock, started, stop);
        if (options.Plain)
        {
            while (await Task.WhenAny(story, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)) != story)
            {
                say($"[{scenario.Phase}]{Environment.NewLine}{screen.PlainStatus()}");
            }
        }
        else
        {
            await console.Live(screen.Render()).AutoClear(false).StartAsync(async ctx =>
            {
                while (await Task.WhenAny(story, Task.Delay(500, CancellationToken.None)) != story)
                {
                    ctx.UpdateTarget(screen.Render());
                }

                ctx.UpdateTarget(screen.Render());
            });
        }

        var exit = 0;
        try
        {
            await story;
            say("done");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            say("stopped by Ctrl-C (or a signal): summary so far");
            exit = 130;
        }
        catch (OperationCanceledException)
        {
            say($"--duration reached ({options.Duration?.TotalSeconds:0} s)");
        }

        foreach (var r in timeline.Records)
        {
            timeline.Close(r);
        }

        var finals = new List<(Bank, TrafficSample)>();
        foreach (var bank in installation.Banks)
        {
            finals.Add((bank, await bank.Client.StopAsync()));
        }

        // Every unknown-fate 0200 is reversed by its sidecar (0420, then 0421 until a 0430): give the last ones a moment.
        var reversals = await SettledReversalsAsync(installation, say);

        var last = observer.Latest;
        await observing.CancelAsync();
        await observe.ContinueWith(_ => { }, TaskScheduler.Default);
        console.WriteLine();
        console.Write(Screen.TimelineTable(timeline.Records));
        console.Write(Summary.Faults(timeline.Records));
        console.Write(Summary.Totals(finals, reversals));
        console.MarkupLine("[grey]not sent (91): the sidecar's relay answered at once, the request never reached a server (no link, " +
            "moving, stop-sending). Unknown fate (68): sent, no answer in time; the sidecar reverses each one (0420, repeated as 0421 " +
            "until the scheme's 0430), from a journal that survives its restart (docs/sidecar.md).[/]");
        console.Write(Summary.Agreement(installation, last));
        var failures = Summary.Failures(installation, finals, reversals, last);
        foreach (var failure in failures)
        {
            console.MarkupLine($"[red]FAILED: {Markup.Escape(failure)}[/]");
        }

        return exit != 0 ? exit : failures.Count > 0 ? 4 : 0;
    }

    /// <summary>The faults, then calm until --duration (counted from when everything is up) or for a few seconds.</summary>
    private static async Task StoryAsync(Scenario scenario, DemoOptions options, DemoClock clock, TimeSpan started, CancellationToken stop)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        if (options.Duration is { } d)
        {
            deadline.CancelAfter(d);
        }

        await scenario.RunAsync(deadline.Token);
        var end = options.Duration is { } duration ? started + duration
            : clock.Now + (options.Faults.Count == 0 ? NoFaultDuration : DefaultCalm);
        var rest = end - clock.Now;
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest, deadline.Token);
        }

        stop.ThrowIfCancellationRequested();
    }

    /// <summary>Every process this run started has exited and none of its ports is listening; says what is left otherwise.</summary>
    private static bool NothingLeft(Action<string> say)
    {
        var alive = ChildProcess.Started.Where(ChildProcess.IsAlive).Order().ToList();
        var listening = LoopbackPorts.Listening(LoopbackPorts.All);
        if (alive.Count == 0 && listening.Count == 0)
        {
            say($"stopped {ChildProcess.Started.Count} processes (pids {string.Join(", ", ChildProcess.Started.Order())}); " +
                $"nothing left running, none of its {LoopbackPorts.All.Count} ports listening");
            RunRecord.Close();
            return true;
        }

        say($"LEFT BEHIND: processes [{string.Join(", ", alive)}], listening ports [{string.Join(", ", listening)}]");
        return false;
    }
}
