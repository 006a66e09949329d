using System.Diagnostics;
using OrleansControl.Demo.Network;

namespace OrleansControl.Demo.Processes;

/// <summary>
/// What this run started, written down as it starts it (/tmp/orleanscontrol-demo/run-{pid}), so that a run that was
/// itself killed with kill -9 leaves nothing the next run trips over: the next run stops the processes and deletes the
/// network namespaces of any earlier run whose demo process is gone. Only ever touches what a demo run recorded.
/// </summary>
internal static class RunRecord
{
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "orleanscontrol-demo");
    private static readonly Lock Gate = new();
    private static readonly string Own = Path.Combine(Folder, $"run-{Environment.ProcessId}");

    public static void Add(int pid) => Append($"pid {pid} {StartTicks(pid)}");

    public static void AddNamespace(string name) => Append($"netns {name}");

    /// <summary>A folder of this run's own (e.g. its certificates), deleted by the run, or by the next one if it was killed.</summary>
    public static string PrivateFolder(string name)
    {
        var path = Path.Combine(Folder, $"{name}-{Environment.ProcessId}");
        Append($"dir {path}");
        return path;
    }

    /// <summary>This run ended cleanly: nothing to sweep later.</summary>
    public static void Close()
    {
        lock (Gate)
        {
            File.Delete(Own);
        }
    }

    /// <summary>Stops what earlier, killed runs left behind; returns what it did, in words (empty: nothing).</summary>
    public static IReadOnlyList<string> SweepAbandonedRuns()
    {
        var done = new List<string>();
        if (!Directory.Exists(Folder))
        {
            return done;
        }

        foreach (var file in Directory.GetFiles(Folder, "run-*"))
        {
            if (!int.TryParse(Path.GetFileName(file)["run-".Length..], out var demoPid) || demoPid == Environment.ProcessId
                || ChildProcess.IsAlive(demoPid))
            {
                continue;
            }

            foreach (var line in File.ReadAllLines(file))
            {
                var parts = line.Split(' ');
                if (parts is ["pid", var p, var ticks] && int.TryParse(p, out var pid) && ChildProcess.IsAlive(pid) && StartTicks(pid) == ticks)
                {
                    // Same pid and same start time: the very process that run started, not a later one with its pid.
                    try
                    {
                        Process.GetProcessById(pid).Kill(entireProcessTree: true);
                        done.Add($"stopped pid {pid} left by demo run {demoPid}");
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                    {
                        // Gone meanwhile.
                    }
                }
                else if (parts is ["dir", var dir] && dir.StartsWith(Folder, StringComparison.Ordinal) && Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                    done.Add($"deleted {dir} left by demo run {demoPid}");
                }
                else if (parts is ["netns", var ns] && NetworkNamespace.Exists(ns))
                {
                    NetworkNamespace.Delete(ns);
                    done.Add($"deleted network namespace {ns} left by demo run {demoPid}");
                }
            }

            File.Delete(file);
        }

        return done;
    }

    private static void Append(string line)
    {
        lock (Gate)
        {
            Directory.CreateDirectory(Folder);
            File.AppendAllLines(Own, [line]);
        }
    }

    /// <summary>Field 22 of /proc/{pid}/stat (start time in clock ticks since boot): tells a process from a reused pid.</summary>
    private static string StartTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
