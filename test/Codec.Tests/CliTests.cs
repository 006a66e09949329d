using System.Diagnostics;
using OrleansControl.Codec;

namespace OrleansControl.Codec.Tests;

public sealed class CliTests
{
    [Fact]
    public async Task Describe_prints_the_masked_message_from_hex_on_stdin()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-binary");
        var hex = Convert.ToHexString(spec.Pack(Samples.Authorization(spec)));

        var (code, stdout, _) = await RunAsync(hex, "describe", "--spec", "iso8583-1987-binary", "--hex");

        Assert.Equal(0, code);
        Assert.Contains("MTI 0200", stdout, StringComparison.Ordinal);
        Assert.Contains("476173******0119", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Samples.Pan, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_reads_a_raw_file_with_a_custom_spec_file()
    {
        var dir = Directory.CreateTempSubdirectory("iso8583-cli");
        try
        {
            var specPath = Path.Combine(dir.FullName, "dialect.json");
            await File.WriteAllTextAsync(specPath, """
                { "name": "tiny", "mti": { "encoding": "ascii" }, "bitmap": { "encoding": "hex" },
                  "fields": { "11": { "name": "STAN", "class": "n", "max": 6 } } }
                """);
            var dataPath = Path.Combine(dir.FullName, "msg.bin");
            await File.WriteAllTextAsync(dataPath, "0800" + "0020000000000000" + "004712");

            var (code, stdout, _) = await RunAsync(null, "describe", "--spec-file", specPath, dataPath);

            Assert.Equal(0, code);
            Assert.Contains("STAN", stdout, StringComparison.Ordinal);
            Assert.Contains("004712", stdout, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Malformed_input_exits_non_zero_naming_field_and_offset()
    {
        // 0800, bitmap with field 11, then a STAN with a letter in it.
        var (code, _, stderr) = await RunAsync("0800" + "0020000000000000" + "00A712", "describe", "--spec", "iso8583-1987-ascii");

        Assert.Equal(1, code);
        Assert.Contains("field 11 at offset 22", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frames_on_stdin_are_described_one_by_one()
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var framing = new LengthPrefixFraming(FrameHeader.Binary2);
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        framing.WriteMessage(writer, spec, Samples.Echo(spec));
        framing.WriteKeepAlive(writer);

        var (code, stdout, _) = await RunAsync(Convert.ToHexString(writer.WrittenSpan), "describe", "--spec", "iso8583-1987-ascii", "--hex", "--framing", "binary2");

        Assert.Equal(0, code);
        Assert.Contains("frame 1: MTI 0800", stdout, StringComparison.Ordinal);
        Assert.Contains("frame 2: keep-alive", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ascii4")]
    [InlineData("bcd2-inclusive")]
    [InlineData("binary4")]
    public async Task Every_framing_kind_is_accepted(string kind)
    {
        var spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        LengthPrefixFraming.Parse(kind).WriteMessage(writer, spec, Samples.Echo(spec));

        var (code, stdout, _) = await RunAsync(Convert.ToHexString(writer.WrittenSpan), "describe", "--spec", "iso8583-1987-ascii", "--hex", "--framing", kind);

        Assert.Equal(0, code);
        Assert.Contains("frame 1: MTI 0800", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("describe", "--spec", "iso8583-1987-ascii", "--framing", "smoke-signals")]
    [InlineData("describe", "--spec", "no-such-spec")]
    [InlineData("describe")]
    [InlineData("frobnicate")]
    public async Task Bad_usage_exits_with_code_2(params string[] args)
    {
        var (code, _, stderr) = await RunAsync("", args);
        Assert.Equal(2, code);
        Assert.Contains("usage", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Samples.BuiltInSpecs), MemberType = typeof(Samples))]
    public void Sample_files_for_the_cli_unpack_with_their_spec(string specName)
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "OrleansControl.sln")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("repository root not found");
        }

        var hex = File.ReadAllText(Path.Combine(dir, "Codec", "Cli", "samples", $"authorization-{specName}.hex"));
        var bytes = Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));
        var spec = MessageSpec.BuiltIn(specName);

        Assert.Equal(bytes, spec.Pack(spec.Unpack(bytes)));
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "iso8583.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
