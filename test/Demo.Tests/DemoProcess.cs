using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansControl.Demo.Tests;

/// <summary>What one run of the demo did: its exit code and everything it printed (plain mode: output redirected).</summary>
internal sealed record DemoResult(int ExitCode, string Output, TimeSpan Took);

/// <summary>Runs the built demo (<c>dotnet OrleansControl.Demo.dll …</c>) as a user would.</summary>
internal static class DemoProcess
{
    private static string Dll
    {
        get
        {
            var recorded = typeof(DemoProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "OrleansControl.Demo").Value!;
            var path = Path.GetFullPath(recorded);
            Assert.True(File.Exists(path), $"the demo is not built at {path}: build the solution (dotnet build OrleansControl.sln -c Release) first");
            return path;
        }
    }

    /// <summary>Runs the demo to its end (failing the test if it runs past <paramref name="timeout"/>).</summary>
    public static async Task<DemoResult> RunAsync(TimeSpan timeout, params string[] args)
    {
        await using var demo = Start(args);
        return await demo.WaitForExitAsync(timeout);
    }

    /// <summary>Starts the demo and returns while it runs: its output can be waited on line by line.</summary>
    public static RunningDemo Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        return new RunningDemo(info);
    }
}

/// <summary>A demo process still running: what it printed so far, a wait for a line, its end.</summary>
internal sealed class RunningDemo : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Seen)> _waits = [];

    public RunningDemo(ProcessStartInfo info)
    {
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The first line (printed so far or later) that matches <paramref name="pattern"/>.</summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan within)
    {
        var seen = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            foreach (var line in _output.ToString().Split(Environment.NewLine))
            {
                if (pattern.Match(line) is { Success: true } m)
                {
                    return m;
                }
            }

            _waits.Add((pattern, seen));
        }

        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(seen.Task, exited, Task.Delay(within));
        if (first == seen.Task)
        {
            return await seen.Task;
        }

        Assert.Fail(first == exited
            ? $"the demo ended (exit code {_process.ExitCode}) without printing a line like /{pattern}/{Environment.NewLine}{Output}"
            : $"the demo printed no line like /{pattern}/ within {within.TotalSeconds:0} s{Environment.NewLine}{Output}");
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>Waits for the demo's own end (failing the test, after stopping it, if it runs past <paramref name="timeout"/>).</summary>
    public async Task<DemoResult> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await StopAsync();
            Assert.Fail($"the demo did not end within {timeout.TotalSeconds:0} s{Environment.NewLine}{Output}");
        }

        _process.WaitForExit(); // the output's last lines
        return new DemoResult(_process.ExitCode, Output, _clock.Elapsed);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await StopAsync();
        }

        _process.Dispose();
    }

    /// <summary>SIGTERM first: the demo's own way to stop everything it started; then make sure.</summary>
    private async Task StopAsync()
    {
        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        if (!_process.WaitForExit(20_000))
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            for (var i = _waits.Count - 1; i >= 0; i--)
            {
                if (_waits[i].Pattern.Match(line) is { Success: true } m)
                {
                    _waits[i].Seen.TrySetResult(m);
                    _waits.RemoveAt(i);
                }
            }
        }
    }
}
