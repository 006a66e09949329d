namespace OrleansControl.Codec.Cli;

/// <summary>Reads the message bytes from a file or stdin, raw or as hex text.</summary>
internal static class InputReader
{
    public static byte[] Read(string input, bool hex)
    {
        byte[] raw;
        if (input == "-")
        {
            using var stdin = Console.OpenStandardInput();
            using var copy = new MemoryStream();
            stdin.CopyTo(copy);
            raw = copy.ToArray();
        }
        else
        {
            raw = File.ReadAllBytes(input);
        }

        if (!hex)
        {
            return raw;
        }

        var text = new string([.. System.Text.Encoding.ASCII.GetString(raw).Where(c => !char.IsWhiteSpace(c))]);
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new UsageException("--hex input is not an even number of hex digits");
        }
    }
}
