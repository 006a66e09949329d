using System.Diagnostics;
using OpenTelemetry.Trace;
using OrleansControl.GrainInterfaces;

namespace OrleansControl.Silo.Extensions;

/// <summary>
/// Keeps traces about our work and drops Orleans' own chatter: a span inside a trace follows its parent's decision; a
/// span that starts a trace is kept unless it is a grain call ("IInterface/Method") to a grain interface that is not
/// ours (memory-stream queue polls every 10 ms, timers, membership), which would otherwise be most of what is exported.
/// </summary>
internal sealed class OwnGrainCallsSampler : Sampler
{
    private static readonly HashSet<string> Ours = [.. typeof(IConnectionGrain).Assembly.GetTypes()
        .Where(t => t.IsInterface && typeof(IGrain).IsAssignableFrom(t)).Select(t => t.Name)];

    public override SamplingResult ShouldSample(in SamplingParameters parameters)
    {
        if (parameters.ParentContext.TraceId != default)
        {
            return new(parameters.ParentContext.TraceFlags.HasFlag(ActivityTraceFlags.Recorded));
        }

        var name = parameters.Name;
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        var grainCall = slash > 1 && name[0] == 'I' && !name.Contains(' ', StringComparison.Ordinal);
        return new(!grainCall || Ours.Contains(name[..slash]));
    }
}
