using System.Reflection;

namespace OrleansControl.Demo.Processes;

/// <summary>
/// Where the programs the demo runs as processes were built: each project's own output folder, recorded at build time
/// by Demo.csproj. (Same design as test/EndToEnd.Tests/Processes/BuildOutput.cs; kept as a copy so the demo does not
/// depend on a test project.)
/// </summary>
internal static class BuildOutput
{
    public static string Silo => Locate("OrleansControl.Silo");

    public static string SidecarHost => Locate("OrleansControl.Sidecar.Host");

    public static string SchemeServer => Locate("OrleansControl.Samples.SchemeServer");

    public static string BankClient => Locate("OrleansControl.Samples.BankClient");

    public static string KafkaBroker => Locate("OrleansControl.KafkaBroker");

    private static string Locate(string assembly)
    {
        var recorded = typeof(BuildOutput).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == assembly)?.Value
            ?? throw new DemoException($"Demo.csproj records no build output for {assembly}");
        var path = Path.GetFullPath(recorded);
        return File.Exists(path)
            ? path
            : throw new DemoException($"{assembly} is not built at {path}: run the demo with dotnet run --project Demo -c Release");
    }
}
