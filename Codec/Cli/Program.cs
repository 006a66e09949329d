using System.Buffers;
using OrleansControl.Codec;
using OrleansControl.Codec.Cli;

// iso8583 describe (--spec NAME | --spec-file PATH) [--hex] [--framing binary2|ascii4|bcd2|binary4[-inclusive]] [FILE|-]
// iso8583 specs
// Exit codes: 0 ok, 1 the message is malformed (error names field and offset), 2 bad usage or unreadable input.
try
{
    return Run(CommandLine.Parse(args));
}
catch (UsageException e)
{
    Console.Error.WriteLine($"iso8583: {e.Message}");
    Console.Error.WriteLine(CommandLine.Usage);
    return 2;
}
catch (IOException e)
{
    Console.Error.WriteLine($"iso8583: {e.Message}");
    return 2;
}

static int Run(CommandLine cmd)
{
    if (cmd.Command == "specs")
    {
        foreach (var name in MessageSpec.BuiltInNames)
        {
            Console.WriteLine($"{name,-22} {MessageSpec.BuiltIn(name).Description}");
        }

        return 0;
    }

    MessageSpec spec;
    try
    {
        spec = cmd.SpecFile is { } path ? MessageSpec.LoadFile(path) : MessageSpec.BuiltIn(cmd.Spec!);
    }
    catch (Exception e) when (e is Iso8583Exception or ArgumentException)
    {
        throw new UsageException($"cannot load spec: {e.Message}");
    }

    var input = InputReader.Read(cmd.Input, cmd.Hex);
    try
    {
        if (cmd.Framing is null)
        {
            Console.WriteLine(spec.Unpack(input).Describe());
            return 0;
        }

        LengthPrefixFraming framing;
        try
        {
            var kind = LengthPrefixFraming.Parse(cmd.Framing, maxFrameLength: 1);
            framing = new LengthPrefixFraming(kind.Header, Math.Min(1 << 20, LengthPrefixFraming.Capacity(kind.Header, kind.HeaderCountsItself)), kind.HeaderCountsItself);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }

        var buffer = new ReadOnlySequence<byte>(input);
        var frames = 0;
        while (framing.TryReadFrame(ref buffer, out var frame))
        {
            frames++;
            Console.WriteLine(frame.IsEmpty ? $"frame {frames}: keep-alive" : $"frame {frames}: {spec.Unpack(frame).Describe()}");
        }

        if (!buffer.IsEmpty)
        {
            throw new Iso8583Exception("a complete frame", $"{buffer.Length} bytes of an incomplete frame", null, input.Length - (int)buffer.Length, "framing");
        }

        return 0;
    }
    catch (Iso8583Exception e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}
