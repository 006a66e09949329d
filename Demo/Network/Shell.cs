using System.Diagnostics;

namespace OrleansControl.Demo.Network;

/// <summary>Runs a system command (ip, tc) to completion; a failure is a <see cref="DemoException"/> with its stderr.</summary>
internal static class Shell
{
    public static string Run(string command, params string[] args)
    {
        var (code, output, error) = TryRun(command, args);
        return code == 0
            ? output
            : throw new DemoException($"`{command} {string.Join(' ', args)}` failed ({code}): {error.Trim()}");
    }

    public static (int Code, string Output, string Error) TryRun(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output.Result, error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", $"{command}: {e.Message}");
        }
    }
}
