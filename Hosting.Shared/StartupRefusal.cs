using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace OrleansControl.Hosting;

/// <summary>
/// How a process of ours says it will not start: one message naming every bad setting (the full configuration key),
/// exit code <see cref="ExitCode"/>, and no stack trace unless asked for (<c>--verbose</c> or <c>ORLEANSCONTROL_VERBOSE=1</c>).
/// One source file compiled into each host (the silo, the sidecar host), so they say it the same way.
/// </summary>
internal static partial class StartupRefusal
{
    public const string VerboseFlag = "--verbose";
    public const string VerboseVariable = "ORLEANSCONTROL_VERBOSE";

    /// <summary>Refused to start: invalid settings, or a port in use.</summary>
    public const int ExitCode = 2;

    public static bool IsVerbose(string[] args) =>
        args.Contains(VerboseFlag) || Environment.GetEnvironmentVariable(VerboseVariable) is "1" or "true";

    /// <summary>The arguments for the host builder (without our own <see cref="VerboseFlag"/>).</summary>
    public static string[] HostArgs(string[] args) => [.. args.Where(a => a != VerboseFlag)];

    /// <summary>Every settings failure in <paramref name="ex"/> (validation, and the binder's "not a number"), in the binder's words made plain.</summary>
    public static List<string> SettingsFailures(Exception ex)
    {
        var all = Flatten(ex).ToList();
        var failures = all.OfType<OptionsValidationException>().SelectMany(e => e.Failures).ToList();
        failures.AddRange(all.OfType<InvalidOperationException>().Select(e => e.Message).Where(m => BinderFailure().IsMatch(m)));
        return [.. failures.Distinct()];
    }

    public static string BadSettings(IReadOnlyList<string> failures) =>
        $"cannot start: {failures.Count} invalid setting{(failures.Count == 1 ? "" : "s")}:{Environment.NewLine}"
        + string.Join(Environment.NewLine, failures.Select(f => $"  - {Plain(f)}"));

    /// <summary>Writes the message (and the exception only when verbose) to stderr; returns <see cref="ExitCode"/>.</summary>
    public static int Refuse(string program, string message, Exception? ex, bool verbose)
    {
        Console.Error.WriteLine($"{program}: {message}");
        if (verbose && ex is not null)
            Console.Error.WriteLine(ex);
        else
            Console.Error.WriteLine($"(exit code {ExitCode}; {VerboseFlag} or {VerboseVariable}=1 for the exception)");
        return ExitCode;
    }

    /// <summary>The configuration binder's wording without .NET type names: "Controller:SiloPort: 'abc' is not a whole number".</summary>
    public static string Plain(string failure)
    {
        var m = BinderFailure().Match(failure);
        if (!m.Success)
            return failure;
        var expected = m.Groups["type"].Value switch
        {
            "System.Int32" or "System.Int64" or "System.Int16" => "a whole number",
            "System.Double" or "System.Decimal" or "System.Single" => "a number",
            "System.Boolean" => "true or false",
            "System.TimeSpan" => "a duration such as 00:00:05",
            "System.Uri" => "an absolute URI",
            var type => EnumNames(type) is { } names ? $"one of {names}" : "a valid value",
        };
        return $"{m.Groups["key"].Value}: '{m.Groups["value"].Value}' is not {expected}";
    }

    public static bool IsAddressInUse(Exception e) =>
        e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }
        || (e is IOException && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase));

    public static IEnumerable<Exception> Flatten(Exception ex)
    {
        yield return ex;
        var inner = ex is AggregateException agg ? agg.InnerExceptions : ex.InnerException is { } i ? [i] : [];
        foreach (var e in inner)
            foreach (var x in Flatten(e))
                yield return x;
    }

    private static string? EnumNames(string typeName)
    {
        var type = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null);
        return type is { IsEnum: true } ? string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant())) : null;
    }

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex BinderFailure();
}
