namespace OrleansControl.Benchmarks;

/// <summary>A load tool or harness run by name from the command line; it prints its own numbers.</summary>
public interface ILoadTool
{
    string Name { get; }

    string Description { get; }

    Task<int> RunAsync(string[] args);
}
