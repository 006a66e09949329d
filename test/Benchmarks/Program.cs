using System.Reflection;
using BenchmarkDotNet.Running;
using OrleansControl.Benchmarks;

// Usage:
//   dotnet run -c Release --project test/Benchmarks -- bdn [BenchmarkDotNet args, e.g. --filter '*Codec*']
//   dotnet run -c Release --project test/Benchmarks -- <tool> [tool args]   (tools: see `list`)
var tools = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(ILoadTool).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (ILoadTool)Activator.CreateInstance(t)!)
    .ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);

if (args.Length == 0 || args[0] is "list" or "--help")
{
    Console.WriteLine("bdn [args]      BenchmarkDotNet micro-benchmarks");
    foreach (var tool in tools.Values.OrderBy(t => t.Name))
    {
        Console.WriteLine($"{tool.Name,-15} {tool.Description}");
    }
    return 0;
}

if (args[0] == "bdn")
{
    BenchmarkSwitcher.FromAssembly(typeof(ILoadTool).Assembly).Run(args[1..]);
    return 0;
}

if (!tools.TryGetValue(args[0], out var selected))
{
    Console.Error.WriteLine($"unknown tool '{args[0]}'; run with 'list'");
    return 2;
}

return await selected.RunAsync(args[1..]);
