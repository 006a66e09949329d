using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrleansControl.EndToEnd.Tests.Processes;

/// <summary>
/// One program of ours (<c>dotnet &lt;dll&gt;</c>) running as its own process, run from its build folder so it finds
/// its appsettings.json. Keeps the tail of its output for failure messages. <see cref="Kill"/> is kill -9
/// (SIGKILL on Linux): no shutdown hooks, no graceful close, the kernel resets its sockets.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private const int TailLines = 150;
    private static readonly ConcurrentDictionary<int, Process> Running = new();
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _tail = new();

    static ChildProcess()
    {
        // A test host that dies without running Dispose must not leave servers behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Running.Values)
            {
                TryKill(process);
            }
        };
    }

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once it has exited by itself (null while it runs).</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public static ChildProcess Start(string name, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        info.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Start();
        Running[process.Id] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>kill -9 of the process (and anything it started); returns once it is gone.</summary>
    public void Kill()
    {
        TryKill(_process);
        Running.TryRemove(_process.Id, out _);
    }

    /// <summary>Whether one of the last lines it wrote (stdout or stderr) contains <paramref name="text"/>.</summary>
    public bool Wrote(string text) => _tail.Any(line => line.Contains(text, StringComparison.Ordinal));

    /// <summary>The last lines it wrote, for a failure message.</summary>
    public string Tail(int lines = 40) =>
        $"--- {Name} (pid {_process.Id}{(_process.HasExited ? ", exited" : "")}) ---{Environment.NewLine}" +
        string.Join(Environment.NewLine, _tail.TakeLast(lines));

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _tail.Enqueue(line);
        while (_tail.Count > TailLines && _tail.TryDequeue(out _))
        {
        }
    }

    private static void TryKill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit(10_000);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Never started or already reaped.
        }
    }
}
