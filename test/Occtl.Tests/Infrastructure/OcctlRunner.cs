using System.Diagnostics;
using System.Reflection;

namespace OrleansControl.Occtl.Tests.Infrastructure;

public sealed record OcctlResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>
/// Runs occtl against a gateway: in-process through its command tree (captured output, its own environment and
/// home directory, nothing read from the machine's), or as a real process (<c>dotnet occtl.dll ...</c>).
/// </summary>
public sealed class OcctlRunner : IDisposable
{
    public OcctlRunner(Uri? gateway, string? token = ControllerHost.OperatorToken)
    {
        Home = Directory.CreateTempSubdirectory("occtl-home-").FullName;
        if (gateway is not null) Environment["OCCTL_GATEWAY"] = gateway.ToString();
        if (token is not null) Environment["OCCTL_TOKEN"] = token;
    }

    /// <summary>The OCCTL_* variables (and any other) the command sees; nothing else of the test process's environment.</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>The command's home directory: ~/.config/occtl/config.json lives under it.</summary>
    public string Home { get; }

    public string ConfigPath => Path.Combine(Home, ".config", "occtl", "config.json");

    public async Task<OcctlResult> RunAsync(params string[] args)
    {
        var run = Start(args);
        return await run.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public RunningOcctl Start(params string[] args)
    {
        var output = new CapturedWriter();
        var error = new CapturedWriter();
        var cts = new CancellationTokenSource();
        var host = OcctlHost.Captured(output, error, Environment, Home);
        var exit = Task.Run(() => OcctlApp.RunAsync(args, host, cts.Token));
        return new RunningOcctl(exit, output, error, cts);
    }

    /// <summary>occtl as a process, as a script runs it; the environment holds only what <see cref="Environment"/> says.</summary>
    public async Task<OcctlResult> RunProcessAsync(params string[] args)
    {
        var dll = typeof(OcctlRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "occtl").Value!;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OCCTL_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        start.Environment["HOME"] = Home;
        start.Environment.Remove("XDG_CONFIG_HOME");
        foreach (var (k, v) in Environment) start.Environment[k] = v;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"occtl {string.Join(' ', args)} did not end within 60 s");
        }
        return new OcctlResult(process.ExitCode, await stdout, await stderr);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }
}

/// <summary>A command still running (watch, events, drain): its output so far, and a way to wait for or stop it.</summary>
public sealed class RunningOcctl(Task<int> exit, TextWriter output, TextWriter error, CancellationTokenSource cts)
{
    public string Output => output.ToString()!;

    public string Error => error.ToString()!;

    public Task<int> Exit => exit;

    /// <summary>Waits until standard error (where occtl says "watching ...") or output contains the text.</summary>
    public async Task WaitForAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!Error.Contains(text, StringComparison.Ordinal) && !Output.Contains(text, StringComparison.Ordinal))
        {
            if (exit.IsCompleted) throw new InvalidOperationException($"occtl ended before printing '{text}': {await WaitAsync(TimeSpan.Zero)}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"occtl did not print '{text}'; so far:\n{Output}\n{Error}");
            await Task.Delay(50);
        }
    }

    public async Task<OcctlResult> WaitAsync(TimeSpan timeout)
    {
        if (await Task.WhenAny(exit, Task.Delay(timeout)) != exit)
        {
            await cts.CancelAsync();
            throw new TimeoutException($"occtl did not end in time; so far:\n{Output}\n{Error}");
        }
        return new OcctlResult(await exit, Output, Error);
    }

    /// <summary>What Ctrl-C does.</summary>
    public async Task<OcctlResult> StopAsync()
    {
        await cts.CancelAsync();
        return await WaitAsync(TimeSpan.FromSeconds(10));
    }
}
