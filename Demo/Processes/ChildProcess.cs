using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrleansControl.Demo.Processes;

/// <summary>
/// One program of ours (<c>dotnet &lt;dll&gt;</c>) running as its own process, run from its build folder so it finds its
/// appsettings.json, optionally inside a network namespace (<c>ip netns exec</c>, which execs: the pid is the program's).
/// Started in its own session (<c>setsid</c>) so a Ctrl-C in the terminal reaches the demo only, and the demo stops
/// each process itself, in order. Keeps the tail of its output for error messages. Same design as
/// test/EndToEnd.Tests/Processes/ChildProcess.cs (a copy, grown with namespaces, SIGSTOP and a line callback).
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private const int TailLines = 150;
    private static readonly ConcurrentDictionary<int, Process> Running = new();
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _tail = new();
    private readonly Action<string>? _onLine;

    static ChildProcess()
    {
        // A demo that ends without running Dispose (an unhandled exception) must not leave servers behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => KillAll();
    }

    private ChildProcess(string name, Process process, Action<string>? onLine)
    {
        Name = name;
        _process = process;
        _onLine = onLine;
    }

    public string Name { get; }

    public int Pid { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>Every pid started in this run, for the check that none is left.</summary>
    public static ConcurrentBag<int> Started { get; } = [];

    public static ChildProcess Start(string name, string dll, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, string? networkNamespace = null, Action<string>? onLine = null) =>
        StartProgram(name, "dotnet", [dll, .. args], Path.GetDirectoryName(dll)!, environment, networkNamespace, onLine);

    /// <summary>Any program (redis-server, …), run the same way: own session, output kept, killed with the demo.</summary>
    public static ChildProcess StartProgram(string name, string program, IEnumerable<string> args, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null, string? networkNamespace = null, Action<string>? onLine = null)
    {
        var info = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (networkNamespace is not null)
        {
            foreach (var a in new[] { "ip", "netns", "exec", networkNamespace })
            {
                info.ArgumentList.Add(a);
            }
        }

        info.ArgumentList.Add(program);
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
        var child = new ChildProcess(name, process, onLine);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Start();
        child.Pid = process.Id;
        Running[process.Id] = process;
        Started.Add(process.Id);
        RunRecord.Add(process.Id);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>kill -9 of the process (and anything it started); returns once it is gone.</summary>
    public void Kill()
    {
        TryKill(_process);
        Running.TryRemove(Pid, out _);
    }

    /// <summary>SIGSTOP: the process stops reading and answering, the kernel still ACKs its sockets.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal("CONT");

    /// <summary>SIGTERM (not SIGINT, which a parent shell may have set to ignored): the program ends its own way; false if
    /// it has not exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        Signal("TERM");
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Whether one of the last lines it wrote (stdout or stderr) contains <paramref name="text"/>.</summary>
    public bool Wrote(string text) => _tail.Any(line => line.Contains(text, StringComparison.Ordinal));

    /// <summary>The last lines it wrote, for an error message.</summary>
    public string Tail(int lines = 40) =>
        $"--- {Name} (pid {Pid}{(_process.HasExited ? ", exited" : "")}) ---{Environment.NewLine}" +
        string.Join(Environment.NewLine, _tail.TakeLast(lines));

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>Whether a process with this pid still runs (a zombie counts as gone).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void KillAll()
    {
        foreach (var process in Running.Values)
        {
            TryKill(process);
        }
    }

    private void Signal(string signal)
    {
        if (_process.HasExited)
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
        })!;
        kill.WaitForExit();
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

        _onLine?.Invoke(line);
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
