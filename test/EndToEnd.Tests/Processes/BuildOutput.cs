using System.Reflection;

namespace OrleansControl.EndToEnd.Tests.Processes;

/// <summary>
/// Where the programs the fault tests run as processes were built: each project's own output folder (its deps.json
/// and runtimeconfig.json live beside it), recorded at build time by EndToEnd.Tests.csproj.
/// </summary>
internal static class BuildOutput
{
    public static string Silo => Locate("OrleansControl.Silo");

    public static string SidecarHost => Locate("OrleansControl.Sidecar.Host");

    public static string SchemeServer => Locate("OrleansControl.Samples.SchemeServer");

    private static string Locate(string assembly)
    {
        var recorded = typeof(BuildOutput).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == assembly)?.Value
            ?? throw new InvalidOperationException($"EndToEnd.Tests.csproj records no build output for {assembly}");
        var path = Path.GetFullPath(recorded);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{assembly} is not built at {path}: build the solution (dotnet build OrleansControl.sln -c Release) first", path);
    }
}
