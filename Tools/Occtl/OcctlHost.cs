using Spectre.Console;

namespace OrleansControl.Occtl;

/// <summary>
/// What a run of occtl talks to outside itself: standard output (as a Spectre console), standard error, the
/// environment and the home directory. The process gets the real ones; tests pass captured writers and a dictionary.
/// </summary>
internal sealed class OcctlHost(IAnsiConsole console, TextWriter output, TextWriter error,
    Func<string, string?> environment, string homeDirectory, bool handleSignals)
{
    /// <summary>Width used when standard output is not a terminal: scripts read whole rows, never wrapped ones.</summary>
    private const int RedirectedWidth = 512;

    public IAnsiConsole Console { get; } = console;

    /// <summary>Standard output as plain text, for JSON, YAML and event lines (never wrapped, never markup).</summary>
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public string HomeDirectory { get; } = homeDirectory;

    /// <summary>True for the real process: Ctrl-C and SIGTERM cancel the running command.</summary>
    public bool HandleSignals { get; } = handleSignals;

    public string? Env(string name) => environment(name) is { Length: > 0 } value ? value : null;

    public static OcctlHost FromProcess()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Out) });
        if (System.Console.IsOutputRedirected) console.Profile.Width = RedirectedWidth;
        return new OcctlHost(console, System.Console.Out, System.Console.Error, Environment.GetEnvironmentVariable,
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), handleSignals: true);
    }

    /// <summary>A host whose output goes to writers (no colour, not interactive): in-process runs and tests.</summary>
    public static OcctlHost Captured(TextWriter output, TextWriter error, IReadOnlyDictionary<string, string> environment, string homeDirectory)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = RedirectedWidth;
        return new OcctlHost(console, output, error, name => environment.GetValueOrDefault(name), homeDirectory, handleSignals: false);
    }
}
