namespace OrleansControl.Codec.Cli;

internal sealed class UsageException(string message) : Exception(message);

/// <summary>The parsed arguments of the iso8583 tool.</summary>
internal sealed record CommandLine(string Command, string? Spec, string? SpecFile, bool Hex, string? Framing, string Input)
{
    public const string Usage = """
        usage: iso8583 describe (--spec NAME | --spec-file PATH) [--hex] [--framing KIND] [FILE|-]
               iso8583 specs
          --spec NAME        built-in spec (see `iso8583 specs`), e.g. iso8583-1987-ascii
          --spec-file PATH   a JSON spec for another dialect (format: docs/codec.md)
          --hex              input is hex text (whitespace ignored) instead of raw bytes
          --framing KIND     input is a stream of frames: binary2, ascii4, bcd2, binary4 (+ -inclusive)
          FILE               input file; '-' or none reads stdin
        exit codes: 0 ok, 1 malformed message (the error names field and offset), 2 usage or I/O error
        """;

    public static CommandLine Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            throw new UsageException("no command");
        }

        var command = args[0];
        if (command == "specs")
        {
            return new CommandLine(command, null, null, false, null, "-");
        }

        if (command != "describe")
        {
            throw new UsageException($"unknown command '{command}'");
        }

        string? spec = null, specFile = null, framing = null, input = null;
        var hex = false;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--spec":
                    spec = Value(args, ref i);
                    break;
                case "--spec-file":
                    specFile = Value(args, ref i);
                    break;
                case "--framing":
                    framing = Value(args, ref i);
                    break;
                case "--hex":
                    hex = true;
                    break;
                case var a when a.StartsWith("--", StringComparison.Ordinal):
                    throw new UsageException($"unknown option '{a}'");
                default:
                    input = input is null ? args[i] : throw new UsageException("more than one input file");
                    break;
            }
        }

        if ((spec is null) == (specFile is null))
        {
            throw new UsageException("give exactly one of --spec or --spec-file");
        }

        return new CommandLine(command, spec, specFile, hex, framing, input ?? "-");
    }

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new UsageException($"{args[i - 1]} needs a value");
}
