using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace OrleansControl.Demo.Tests;

/// <summary>What one run of the demo did: its exit code and everything it printed (plain mode: output redirected).</summary>
internal sealed record DemoResult(int ExitCode, string Output, TimeSpan Took);

/// <summary>Runs the built demo (<c>dotnet OrleansControl.Demo.dll …</c>) as a user would, to its end.</summary>
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

    public static async Task<DemoResult> RunAsync(TimeSpan timeout, params string[] args)
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
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM first: the demo's own way to stop everything it started; then make sure.
            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            if (!process.WaitForExit(20_000))
            {
                process.Kill(entireProcessTree: true);
            }

            Assert.Fail($"the demo did not end within {timeout.TotalSeconds:0} s{Environment.NewLine}{Text()}");
        }

        return new DemoResult(process.ExitCode, Text(), clock.Elapsed);

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }

        string Text()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }
}
